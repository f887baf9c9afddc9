//! What an API key may do: its scopes, as a small set, with their one stored
//! spelling. Which fields each scope opens is the schema's business, not this module's.

/// One permission an API key can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Read your virtual numbers.
    ReadNumbers,
    /// Take, change and release virtual numbers.
    WriteNumbers,
    /// Read call logs and statistics, and subscribe to new calls.
    ReadCalls,
    /// Record calls on your numbers.
    RecordCalls,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::ReadNumbers,
        Scope::WriteNumbers,
        Scope::ReadCalls,
        Scope::RecordCalls,
    ];

    /// How the scope is written in the database.
    pub fn stored(self) -> &'static str {
        match self {
            Scope::ReadNumbers => "read_numbers",
            Scope::WriteNumbers => "write_numbers",
            Scope::ReadCalls => "read_calls",
            Scope::RecordCalls => "record_calls",
        }
    }

    /// The refusal of a request that needs this scope and lacks it.
    pub fn missing(self) -> &'static str {
        match self {
            Scope::ReadNumbers => "this API key lacks the READ_NUMBERS scope",
            Scope::WriteNumbers => "this API key lacks the WRITE_NUMBERS scope",
            Scope::ReadCalls => "this API key lacks the READ_CALLS scope",
            Scope::RecordCalls => "this API key lacks the RECORD_CALLS scope",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Scope::ReadNumbers => 1,
            Scope::WriteNumbers => 2,
            Scope::ReadCalls => 4,
            Scope::RecordCalls => 8,
        }
    }
}

/// A set of scopes (duplicates fold).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Scopes(u8);

impl Scopes {
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes in their fixed order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |scope| self.contains(*scope))
    }

    /// The stored spelling: names in a fixed order, comma-separated.
    pub fn to_stored(self) -> String {
        self.iter().map(Scope::stored).collect::<Vec<_>>().join(",")
    }

    /// Reads the stored spelling; a name this build does not know grants nothing.
    pub fn from_stored(text: &str) -> Self {
        text.split(',')
            .filter_map(|name| Scope::ALL.into_iter().find(|scope| scope.stored() == name.trim()))
            .collect()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(scopes: I) -> Self {
        Scopes(scopes.into_iter().fold(0, |bits, scope| bits | scope.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_fold_duplicates_and_round_trip_through_storage() {
        let scopes: Scopes = [Scope::RecordCalls, Scope::ReadNumbers, Scope::RecordCalls]
            .into_iter()
            .collect();

        assert_eq!(scopes.to_stored(), "read_numbers,record_calls");
        assert_eq!(Scopes::from_stored(&scopes.to_stored()), scopes);
        assert_eq!(
            Scopes::from_stored("read_numbers,admin"),
            [Scope::ReadNumbers].into_iter().collect()
        );
        assert!(Scopes::from_stored("").is_empty());
    }
}
