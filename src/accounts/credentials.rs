//! Parsed account inputs: `Username`, `Password`, `Email`. Each can only hold a
//! valid value; building one from a request is where validation happens.

use crate::error::AppError;

/// 3–150 ASCII letters, digits and `_ . @ + -`, unique whatever the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(input: &str) -> Result<Self, AppError> {
        let name = input.trim();
        let length = name.chars().count();
        if !(3..=150).contains(&length) {
            return Err(AppError::bad_input(
                "username",
                "a username is 3 to 150 characters long",
            ));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "_.@+-".contains(c);
        if !name.chars().all(allowed) {
            return Err(AppError::bad_input(
                "username",
                "a username may contain only letters, digits and _ . @ + -",
            ));
        }
        Ok(Username(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 8–128 characters, not the username in any case, and not one of the 100,000
/// most common passwords (the list the `passwords` crate ships, built into the binary).
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    pub fn parse(input: &str, username: &Username) -> Result<Self, AppError> {
        let length = input.chars().count();
        if !(8..=128).contains(&length) {
            return Err(AppError::bad_input(
                "password",
                "a password is 8 to 128 characters long",
            ));
        }
        if input.eq_ignore_ascii_case(username.as_str()) {
            return Err(AppError::bad_input("password", "the password may not be the username"));
        }
        if passwords::analyzer::is_common_password(input) {
            return Err(AppError::bad_input(
                "password",
                "that password is one of the 100,000 most common ones, the first an attacker tries; choose another",
            ));
        }
        Ok(Password(input.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An email address with valid syntax (RFC 5321/5322, by the `email_address` crate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, AppError> {
        let email = input.trim();
        if email.len() > 254 || !email_address::EmailAddress::is_valid(email) {
            return Err(AppError::bad_input("email", "that is not a valid email address"));
        }
        Ok(Email(email.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rules() {
        for good in ["bob", "alice.smith", "a_b+c-d@e", &"x".repeat(150)] {
            assert!(Username::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "ab", "has space", "émile", "semi;colon", &"x".repeat(151)] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_follow_the_rules() {
        let alice = Username::parse("alice1234").unwrap();
        assert!(Password::parse("long enough", &alice).is_ok());
        assert!(Password::parse("short", &alice).is_err());
        assert!(Password::parse(&"x".repeat(129), &alice).is_err());
        assert!(Password::parse("ALICE1234", &alice).is_err());
        assert!(Password::parse("password123", &alice).is_err());
        assert!(Password::parse("qwertyuiop", &alice).is_err());
    }

    #[test]
    fn emails_need_valid_syntax() {
        assert!(Email::parse("ops@example.com").is_ok());
        for bad in ["", "plain", "a@", "@b.c", "a b@c.d"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
