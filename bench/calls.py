#!/usr/bin/env python3
"""Call-log speed on a seeded database: the first page, a page past row 900,000
(by keyset cursor), and a 90-day callStats by DAY, each as a ratio to a trivial
baseline request (`{ __typename }`) measured in the same run on the same server.

Usage (server running on a seeded database; see bench/README.md):
    python3 bench/calls.py --db sqlite:switchboard.db --username demo1_x --password demo-password-1
    python3 bench/calls.py --db postgres://postgres@127.0.0.1/bench ...
"""
import argparse, base64, datetime, json, statistics, subprocess, sqlite3, time, urllib.request


def gql(url, query, variables=None, token=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as response:
        payload = json.load(response)
    if payload.get("errors"):
        raise SystemExit(f"error: {payload['errors']}")
    return payload["data"]


def timed(url, query, variables, token, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        gql(url, query, variables, token)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def cursor_at(db, username, row):
    """The keyset cursor of the `row`-th newest call of `username` (found with OFFSET, here only)."""
    sql = ("SELECT c.started_at, c.id FROM call_logs c JOIN users u ON u.id = c.owner_id "
           f"WHERE u.username = '{username}' ORDER BY c.started_at DESC, c.id DESC LIMIT 1 OFFSET {row - 1}")
    if db.startswith("sqlite:"):
        connection = sqlite3.connect(db.removeprefix("sqlite:"))
        started_at, raw_id = connection.execute(sql).fetchone()
        import uuid
        call_id = str(uuid.UUID(bytes=raw_id))
    else:
        out = subprocess.run(["psql", db, "-Atc", sql.replace("c.started_at,", "c.started_at::text,")],
                             check=True, capture_output=True, text=True).stdout.strip()
        started_at, call_id = out.split("|")
        started_at = started_at.replace(" ", "T")
        if started_at.endswith("+00"):
            started_at += ":00"
    micros = int(datetime.datetime.fromisoformat(started_at).timestamp() * 1_000_000)
    text = f"call:{micros}:{call_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    parser.add_argument("--db", required=True, help="sqlite:<file> or a postgres:// URL")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    token = gql(args.url, "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }",
                {"u": args.username, "p": args.password})["login"]["accessToken"]
    page = "query($after: String) { callLogs(first: 20, after: $after) { nodes { id startedAt counterpartNumber virtualNumber { phoneNumber } } pageInfo { hasNextPage endCursor } } }"
    stats = "query($from: DateTime!) { callStats(groupBy: DAY, timeZone: \"America/New_York\", filter: { startedAfter: $from }) { totalCalls buckets { periodStart totalCalls } } }"
    since = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=90)).isoformat()
    deep = cursor_at(args.db, args.username, 900_000)

    for _ in range(3):  # warm up connections and caches
        gql(args.url, page, {}, token)
    baseline = timed(args.url, "{ __typename }", {}, token, args.runs)
    first = timed(args.url, page, {}, token, args.runs)
    deep_page = timed(args.url, page, {"after": deep}, token, args.runs)
    stats_time = timed(args.url, stats, {"from": since}, token, max(3, args.runs // 3))
    total = gql(args.url, "{ callLogs(first: 1) { totalCount } }", {}, token)["callLogs"]["totalCount"]

    print(f"calls visible to {args.username}: {total}")
    print(f"baseline {{ __typename }}        {baseline * 1000:8.1f} ms  1.0x")
    for name, value in [("first page (20)", first), ("page past row 900,000", deep_page), ("90-day callStats by DAY", stats_time)]:
        print(f"{name:<30} {value * 1000:8.1f} ms  {value / baseline:5.1f}x baseline")
    print(f"deep page / first page: {deep_page / first:.2f}x")


if __name__ == "__main__":
    main()
