//! Lanes broken on purpose: textual mutations of the generated Verilog, each of which the
//! prover must catch (some safety property fails).

/// One mutation of the lane's Verilog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// Every byte rule inverted: the comparator accepts exactly the bytes its rule forbids.
    InvertedRule,
    /// After a failing byte that is the magic's first, hunting resumes at offset 2 instead
    /// of 1 (as if two magic bytes had matched).
    WrongRestart,
}

impl Mutation {
    pub const ALL: [Mutation; 2] = [Mutation::InvertedRule, Mutation::WrongRestart];

    pub fn name(self) -> &'static str {
        match self {
            Mutation::InvertedRule => "inverted_rule",
            Mutation::WrongRestart => "wrong_restart_offset",
        }
    }

    /// The exact text it replaces and its replacement.
    fn edit(self) -> (&'static str, &'static str) {
        match self {
            Mutation::InvertedRule => ("fail = below | above;", "fail = ~(below | above);"),
            Mutation::WrongRestart => (
                "cur_pos = ((failed_magic0$q) & 8'hff);",
                "cur_pos = ((failed_magic0$q) << 1);",
            ),
        }
    }

    /// The mutated Verilog, or why the mutation does not apply (the lane's code changed: the
    /// test that runs the mutants then fails, so the mutation gets updated).
    pub fn apply(self, verilog: &str) -> Result<String, String> {
        let (from, to) = self.edit();
        match verilog.matches(from).count() {
            1 => Ok(verilog.replacen(from, to, 1)),
            n => Err(format!(
                "mutation {} expects `{from}` once in the lane's Verilog, found {n} times",
                self.name()
            )),
        }
    }
}
