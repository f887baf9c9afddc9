// Audits a GraphQL endpoint with graphql-http's server audits (the reference
// suite for the GraphQL-over-HTTP specification) and prints every result as
// JSON: [{ id, name, status: "ok" | "notice" | "warn" | "error", reason }].
// Usage: node tests/http-audit/audit.mjs http://127.0.0.1:8000/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const results = await auditServer({ url });
console.log(JSON.stringify(results.map(({ id, name, status, reason }) => ({ id, name, status, reason: reason ?? null }))));
