//! The splitter's walk over significant tokens: blocks, stored-program headers, statement ends.

use crate::dialect::Dialect;

use super::lines::LineTracker;
use super::token::{SplitError, SplitErrorKind, Statement, Token, TokenKind};

// ---------------------------------------------------------------------------------------
// Splitter
// ---------------------------------------------------------------------------------------

/// Keywords the splitter reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    Aggregate,
    Alter,
    As,
    Atomic,
    Begin,
    Case,
    Create,
    Definer,
    Delimiter,
    Do,
    Each,
    Else,
    End,
    Event,
    Follows,
    For,
    Found,
    Function,
    Handler,
    If,
    Loop,
    Not,
    Or,
    Precedes,
    Procedure,
    Repeat,
    Replace,
    Row,
    Sql,
    SqlException,
    SqlState,
    SqlWarning,
    Temp,
    Temporary,
    Then,
    Trigger,
    Value,
    View,
    While,
}

const KEYWORDS: &[(&str, Kw)] = &[
    ("AGGREGATE", Kw::Aggregate),
    ("ALTER", Kw::Alter),
    ("AS", Kw::As),
    ("ATOMIC", Kw::Atomic),
    ("BEGIN", Kw::Begin),
    ("CASE", Kw::Case),
    ("CREATE", Kw::Create),
    ("DEFINER", Kw::Definer),
    ("DELIMITER", Kw::Delimiter),
    ("DO", Kw::Do),
    ("EACH", Kw::Each),
    ("ELSE", Kw::Else),
    ("END", Kw::End),
    ("EVENT", Kw::Event),
    ("FOLLOWS", Kw::Follows),
    ("FOR", Kw::For),
    ("FOUND", Kw::Found),
    ("FUNCTION", Kw::Function),
    ("HANDLER", Kw::Handler),
    ("IF", Kw::If),
    ("LOOP", Kw::Loop),
    ("NOT", Kw::Not),
    ("OR", Kw::Or),
    ("PRECEDES", Kw::Precedes),
    ("PROCEDURE", Kw::Procedure),
    ("REPEAT", Kw::Repeat),
    ("REPLACE", Kw::Replace),
    ("ROW", Kw::Row),
    ("SQL", Kw::Sql),
    ("SQLEXCEPTION", Kw::SqlException),
    ("SQLSTATE", Kw::SqlState),
    ("SQLWARNING", Kw::SqlWarning),
    ("TEMP", Kw::Temp),
    ("TEMPORARY", Kw::Temporary),
    ("THEN", Kw::Then),
    ("TRIGGER", Kw::Trigger),
    ("VALUE", Kw::Value),
    ("VIEW", Kw::View),
    ("WHILE", Kw::While),
];

/// Keywords after which a name or an expression follows, so that a block keyword there is a
/// name (`SET end = 1`, `ORDER BY end`, `DECLARE end INT`).
const NAME_BEFORE: &[&str] = &[
    "AND", "BETWEEN", "BY", "CALL", "CASE", "DECLARE", "DISTINCT", "DIV", "ELSE", "ELSEIF", "FETCH", "FROM", "HAVING",
    "IF", "IN", "INTO", "IS", "ITERATE", "JOIN", "LEAVE", "LIKE", "LIMIT", "MOD", "NOT", "OF", "OFFSET", "ON", "OR",
    "REGEXP", "RETURN", "SELECT", "SET", "TABLE", "THEN", "UNTIL", "UPDATE", "USING", "WHEN", "WHERE", "WHILE", "XOR",
];

fn lookup_keyword(word: &str) -> Option<Kw> {
    if word.len() > 12 {
        return None;
    }
    KEYWORDS.iter().find(|(name, _)| name.eq_ignore_ascii_case(word)).map(|&(_, kw)| kw)
}

/// What opened a block level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    BeginAtomic,
    BeginNotAtomic,
    Begin,
    If,
    CaseStatement,
    CaseExpression,
    Loop,
    While,
    Repeat,
    For,
}

impl BlockKind {
    fn keyword(self) -> &'static str {
        match self {
            BlockKind::BeginAtomic => "BEGIN ATOMIC",
            BlockKind::BeginNotAtomic => "BEGIN NOT ATOMIC",
            BlockKind::Begin => "BEGIN",
            BlockKind::If => "IF",
            BlockKind::CaseStatement | BlockKind::CaseExpression => "CASE",
            BlockKind::Loop => "LOOP",
            BlockKind::While => "WHILE",
            BlockKind::Repeat => "REPEAT",
            BlockKind::For => "FOR",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    kind: BlockKind,
    /// Byte offset of the opening keyword.
    offset: usize,
}

/// The kind of stored program a statement creates (MySQL; SQLite has triggers only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Program {
    /// `CREATE PROCEDURE` / `CREATE FUNCTION`.
    Routine,
    Trigger,
    Event,
    /// MariaDB `BEGIN NOT ATOMIC ... END`.
    Anonymous,
}

/// Recogniser for the leading words of a MySQL or SQLite statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Preamble {
    /// Nothing seen yet.
    #[default]
    Start,
    /// `CREATE [OR REPLACE] [AGGREGATE]`.
    AfterCreate,
    /// Inside `DEFINER = ...`; counts the tokens seen so far.
    Definer(u8),
    /// `BEGIN`.
    AfterBegin,
    /// `BEGIN NOT`.
    AfterBeginNot,
    /// A stored program: block rules apply.
    Program(Program),
    /// Anything else: only parentheses matter.
    Plain,
}

/// State of the statement being scanned; reset after each statement.
#[derive(Debug, Default)]
struct StmtState {
    /// Start of the first significant token.
    first: Option<usize>,
    /// End of the last significant token that belongs to the statement.
    last_end: usize,
    paren: usize,
    blocks: Vec<Block>,
    preamble: Preamble,
    /// MySQL: the next token starts a statement inside a stored program.
    at_start: bool,
    /// MySQL: inside the condition list of `DECLARE ... HANDLER FOR`; the flag tells
    /// whether a condition (name) is expected next.
    handler: Option<bool>,
    /// PostgreSQL: the statement is a `COPY`.
    copy: bool,
}

/// Walks the significant tokens and cuts statements.
#[derive(Debug)]
pub(super) struct Walker<'a> {
    sql: &'a str,
    dialect: Dialect,
    toks: &'a [Token],
    lines: LineTracker<'a>,
    segment_start: usize,
    out: Vec<Statement>,
    st: StmtState,
}

impl<'a> Walker<'a> {
    pub(super) fn new(sql: &'a str, dialect: Dialect, toks: &'a [Token]) -> Self {
        Walker {
            sql,
            dialect,
            toks,
            lines: LineTracker::new(sql),
            segment_start: 0,
            out: Vec::new(),
            st: StmtState::default(),
        }
    }

    pub(super) fn walk(&mut self) -> Result<(), SplitError> {
        let mut i = 0;
        while let Some(tok) = self.toks.get(i) {
            if tok.kind == TokenKind::Semicolon && self.st.paren == 0 && self.st.blocks.is_empty() {
                self.end_statement(tok.range.end);
                i += 1;
                continue;
            }
            if self.st.first.is_none() {
                if self.dialect == Dialect::MySql && self.kw(i) == Some(Kw::Delimiter) {
                    return Err(SplitError::new(self.sql, SplitErrorKind::DelimiterCommand, tok.range.start));
                }
                self.statement_start(i)?;
                self.st.first = Some(tok.range.start);
            }
            self.streams_or_commands(i)?;
            if self.is_punct(i, '(') {
                self.st.paren += 1;
            } else if self.is_punct(i, ')') {
                self.st.paren = self.st.paren.saturating_sub(1);
            } else if tok.kind == TokenKind::Semicolon && !self.st.blocks.is_empty() {
                // Inside a block a `;` ends a body statement; parentheses cannot span it.
                self.st.paren = 0;
            }
            let used = match self.dialect {
                Dialect::Postgres => self.step_postgres(i),
                Dialect::MySql => self.step_mysql(i),
                Dialect::Sqlite => self.step_sqlite(i),
            }
            .max(1);
            let last = i + used - 1;
            if let Some(last) = self.toks.get(last) {
                self.st.last_end = last.range.end;
            }
            i += used;
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<Vec<Statement>, SplitError> {
        if let Some(block) = self.st.blocks.last() {
            return Err(SplitError::new(
                self.sql,
                SplitErrorKind::UnterminatedBlock { keyword: block.kind.keyword().to_owned() },
                block.offset,
            ));
        }
        let end = self.st.last_end;
        self.end_statement(end);
        Ok(self.out)
    }

    /// Ends the current statement; its segment ends at `segment_end`. Empty statements
    /// produce nothing and leave their bytes to the next segment.
    fn end_statement(&mut self, segment_end: usize) {
        if let Some(first) = self.st.first {
            let (line, column) = self.lines.position(first);
            self.out.push(Statement {
                range: first..self.st.last_end,
                segment: self.segment_start..segment_end,
                line,
                column,
            });
            self.segment_start = segment_end;
        }
        self.st = StmtState::default();
    }

    /// Refuses what cannot start a statement of a migration: a client program's command
    /// (a psql or mysql backslash command, a sqlite3 dot-command) and MySQL's `LOAD DATA
    /// LOCAL INFILE`, which streams a file from the client. Marks PostgreSQL `COPY`.
    fn statement_start(&mut self, i: usize) -> Result<(), SplitError> {
        let client = match self.dialect {
            Dialect::Postgres if self.is_punct(i, '\\') => Some("psql"),
            Dialect::MySql if self.is_punct(i, '\\') => Some("mysql"),
            Dialect::Sqlite if self.is_punct(i, '.') => Some("sqlite3"),
            // No SQL starts with a backslash: psql's or mysql's commands, pasted into a SQLite script.
            Dialect::Sqlite if self.is_punct(i, '\\') => Some("psql or mysql"),
            // The mysql client's `source file.sql` (its `\.`), like `DELIMITER`.
            Dialect::MySql if self.word_is(i, "SOURCE") => Some("mysql"),
            _ => None,
        };
        if let Some(client) = client {
            return Err(self.client_command(client, i));
        }
        if self.dialect == Dialect::MySql && self.kw(i) == Some(Kw::End) {
            let offset = self.toks.get(i).map_or(0, |t| t.range.start);
            return Err(SplitError::new(self.sql, SplitErrorKind::UnmatchedEnd, offset));
        }
        if self.dialect == Dialect::MySql && self.word_is(i, "LOAD") {
            // LOAD {DATA | XML} [LOW_PRIORITY | CONCURRENT] LOCAL INFILE
            let local = (i + 2..i + 4).find(|&j| self.word_is(j, "LOCAL"));
            if (self.word_is(i + 1, "DATA") || self.word_is(i + 1, "XML")) && local.is_some() {
                let offset = self.toks.get(i).map_or(0, |t| t.range.start);
                let clause = "LOAD DATA LOCAL INFILE";
                return Err(SplitError::new(self.sql, SplitErrorKind::DataStream { clause }, offset));
            }
        }
        self.st.copy = self.dialect == Dialect::Postgres && self.word_is(i, "COPY");
        Ok(())
    }

    /// PostgreSQL: a backslash anywhere outside strings and comments is a psql
    /// meta-command (`SELECT 1 \gset`), and `COPY … FROM STDIN` / `COPY … TO STDOUT`
    /// streams data through the client (pg_dump's data blocks follow such a `COPY`).
    fn streams_or_commands(&self, i: usize) -> Result<(), SplitError> {
        if self.dialect != Dialect::Postgres {
            return Ok(());
        }
        if self.is_punct(i, '\\') {
            return Err(self.client_command("psql", i));
        }
        if !self.st.copy || self.st.paren > 0 {
            return Ok(());
        }
        let clause = if self.word_is(i, "FROM") && self.word_is(i + 1, "STDIN") {
            "COPY … FROM STDIN"
        } else if self.word_is(i, "TO") && self.word_is(i + 1, "STDOUT") {
            "COPY … TO STDOUT"
        } else {
            return Ok(());
        };
        Err(SplitError::new(self.sql, SplitErrorKind::DataStream { clause }, self.st.first.unwrap_or(0)))
    }

    /// A client command starting at token `i`: the rest of its line, shortened.
    fn client_command(&self, client: &'static str, i: usize) -> SplitError {
        let offset = self.toks.get(i).map_or(0, |t| t.range.start);
        let line = self.sql.get(offset..).unwrap_or("").lines().next().unwrap_or("").trim_end();
        let mut command: String = line.chars().take(40).map(super::lines::printable).collect();
        if line.chars().nth(40).is_some() {
            command.push('…');
        }
        SplitError::new(self.sql, SplitErrorKind::ClientCommand { client, command }, offset)
    }

    /// Whether token `i` is the word `word` (case-insensitive), whatever its context.
    fn word_is(&self, i: usize, word: &str) -> bool {
        self.toks.get(i).is_some_and(|t| t.kind == TokenKind::Word && t.text(self.sql).eq_ignore_ascii_case(word))
    }

    fn kind(&self, i: usize) -> Option<TokenKind> {
        self.toks.get(i).map(|t| t.kind)
    }

    fn is_punct(&self, i: usize, c: char) -> bool {
        self.toks.get(i).is_some_and(|t| t.kind == TokenKind::Punct && t.text(self.sql).starts_with(c))
    }

    /// The keyword spelled by token `i`, regardless of context.
    fn raw_kw(&self, i: usize) -> Option<Kw> {
        let tok = self.toks.get(i)?;
        if tok.kind != TokenKind::Word {
            return None;
        }
        lookup_keyword(tok.text(self.sql))
    }

    /// The keyword at token `i`, unless the word is used as a name: after `.`, `@` or
    /// `AS`, or before `.`.
    fn kw(&self, i: usize) -> Option<Kw> {
        let kw = self.raw_kw(i)?;
        if let Some(prev) = i.checked_sub(1)
            && (self.is_punct(prev, '.') || self.is_punct(prev, '@') || self.raw_kw(prev) == Some(Kw::As))
        {
            return None;
        }
        if self.is_punct(i + 1, '.') {
            return None;
        }
        Some(kw)
    }

    /// Whether the word at token `i` stands where a name or an operand is expected, so that a
    /// keyword there is a column, table, alias or variable name (`SET end = 1`, `SELECT a,
    /// begin`, `WHERE end > 0`, `ORDER BY end`): right after `(`, `,`, an operator, or a
    /// keyword that must be followed by a name or an expression.
    fn name_position(&self, i: usize) -> bool {
        let Some(prev) = i.checked_sub(1).and_then(|p| self.toks.get(p)) else { return false };
        match prev.kind {
            TokenKind::Punct => prev.text(self.sql).starts_with(|c: char| "(,=<>!+-*/%|&^~".contains(c)),
            TokenKind::Word => {
                let word = prev.text(self.sql);
                word.len() <= 8 && NAME_BEFORE.iter().any(|kw| kw.eq_ignore_ascii_case(word))
            }
            _ => false,
        }
    }

    /// Whether the token after `i` is an operator or separator that only a name or operand
    /// can stand before (`begin = 1`, `end, x`, `end)`), never a block keyword.
    fn operand_follows(&self, i: usize) -> bool {
        self.toks.get(i + 1).is_some_and(|t| {
            t.kind == TokenKind::Punct && t.text(self.sql).starts_with(|c: char| "=<>!+-*/%|&^,)".contains(c))
        })
    }

    /// Whether the `END` at token `i` closes the innermost block rather than naming a column
    /// (`SET end = 1`) or an alias. After a block body's `END` comes `;`, the end, or (MySQL)
    /// the closed keyword or a label; a `CASE … END` may be followed by anything.
    fn closes_block(&self, i: usize) -> bool {
        if self.name_position(i) {
            return false;
        }
        let in_case = self.st.blocks.last().is_some_and(|b| matches!(b.kind, BlockKind::CaseExpression));
        in_case || !self.operand_follows(i)
    }

    fn open(&mut self, kind: BlockKind, i: usize) {
        let offset = self.toks.get(i).map_or(0, |t| t.range.start);
        self.st.blocks.push(Block { kind, offset });
    }

    /// PostgreSQL block rules for token `i`; returns how many tokens were consumed.
    fn step_postgres(&mut self, i: usize) -> usize {
        match self.kw(i) {
            Some(Kw::Begin) if self.kw(i + 1) == Some(Kw::Atomic) && !self.name_position(i) => {
                self.open(BlockKind::BeginAtomic, i);
                2
            }
            Some(Kw::Case) if !self.st.blocks.is_empty() => {
                self.open(BlockKind::CaseExpression, i);
                1
            }
            Some(Kw::End) if self.closes_block(i) => {
                self.st.blocks.pop();
                1
            }
            _ => 1,
        }
    }

    /// SQLite rules for token `i`: a `CREATE [TEMP] TRIGGER` body is a `BEGIN … END` block in
    /// which `CASE` opens a nested level; returns how many tokens were consumed.
    fn step_sqlite(&mut self, i: usize) -> usize {
        let kw = self.kw(i);
        match self.st.preamble {
            Preamble::Program(_) => match kw {
                Some(Kw::Begin) if self.st.blocks.is_empty() && !self.name_position(i) && !self.operand_follows(i) => {
                    self.open(BlockKind::Begin, i)
                }
                Some(Kw::Case) if !self.st.blocks.is_empty() => self.open(BlockKind::CaseExpression, i),
                Some(Kw::End) if self.closes_block(i) => {
                    self.st.blocks.pop();
                }
                _ => {}
            },
            Preamble::Plain => {}
            preamble => {
                self.st.preamble = match (preamble, kw) {
                    (Preamble::Start, Some(Kw::Create)) => Preamble::AfterCreate,
                    (Preamble::AfterCreate, Some(Kw::Temp | Kw::Temporary)) => Preamble::AfterCreate,
                    (Preamble::AfterCreate, Some(Kw::Trigger)) => Preamble::Program(Program::Trigger),
                    _ => Preamble::Plain,
                };
            }
        }
        1
    }

    /// MySQL rules for token `i`; returns how many tokens were consumed.
    fn step_mysql(&mut self, i: usize) -> usize {
        match self.st.preamble {
            Preamble::Program(program) => self.mysql_program(i, program),
            Preamble::Plain => 1,
            _ => {
                self.mysql_preamble(i);
                1
            }
        }
    }

    /// Classifies a MySQL statement from its leading words.
    fn mysql_preamble(&mut self, i: usize) {
        if self.kind(i) == Some(TokenKind::BlockComment) {
            // `CREATE /*!50017 DEFINER=... */ TRIGGER`: executable comments are transparent.
            return;
        }
        let kw = self.kw(i);
        let program = match kw {
            Some(Kw::Procedure | Kw::Function) => Some(Program::Routine),
            Some(Kw::Trigger) => Some(Program::Trigger),
            Some(Kw::Event) => Some(Program::Event),
            _ => None,
        };
        if let Some(program) = program
            && matches!(self.st.preamble, Preamble::AfterCreate | Preamble::Definer(_))
        {
            self.st.preamble = Preamble::Program(program);
            return;
        }
        self.st.preamble = match (self.st.preamble, kw) {
            // `ALTER EVENT ... DO body` can replace an event's body.
            (Preamble::Start, Some(Kw::Create | Kw::Alter)) => Preamble::AfterCreate,
            (Preamble::Start, Some(Kw::Begin)) => Preamble::AfterBegin,
            (Preamble::AfterCreate, Some(Kw::Or | Kw::Replace | Kw::Aggregate)) => Preamble::AfterCreate,
            (Preamble::AfterCreate, Some(Kw::Definer)) => Preamble::Definer(0),
            (Preamble::Definer(_), Some(Kw::Aggregate)) => Preamble::AfterCreate,
            (Preamble::Definer(_), Some(Kw::View | Kw::Sql)) => Preamble::Plain,
            (Preamble::Definer(n), _) if n < 16 => Preamble::Definer(n + 1),
            (Preamble::AfterBegin, Some(Kw::Not)) => Preamble::AfterBeginNot,
            (Preamble::AfterBeginNot, Some(Kw::Atomic)) => {
                let begin = self.st.first.unwrap_or(0);
                self.st.blocks.push(Block { kind: BlockKind::BeginNotAtomic, offset: begin });
                self.st.at_start = true;
                Preamble::Program(Program::Anonymous)
            }
            _ => Preamble::Plain,
        };
    }

    /// Block rules inside a MySQL stored program.
    fn mysql_program(&mut self, i: usize, program: Program) -> usize {
        let Some(kind) = self.kind(i) else {
            return 1;
        };
        let depth0 = self.st.blocks.is_empty();
        if kind == TokenKind::Semicolon {
            if !depth0 {
                self.st.at_start = true;
                self.st.handler = None;
            }
            return 1;
        }
        if let Some(expect) = self.st.handler {
            self.st.handler = self.handler_condition(i, expect);
            if self.st.handler.is_some() {
                return 1;
            }
            // The condition list is over: the handler's statement starts here.
            self.st.at_start = true;
        }
        // A label `name:` (but not `name :=`).
        if (self.st.at_start || depth0)
            && matches!(kind, TokenKind::Word | TokenKind::QuotedIdent)
            && self.is_punct(i + 1, ':')
            && !self.is_punct(i + 2, '=')
        {
            self.st.at_start = true;
            return 2;
        }
        let at_start = std::mem::replace(&mut self.st.at_start, false);
        match self.kw(i) {
            Some(kw) => self.mysql_keyword(i, kw, at_start, program),
            None => 1,
        }
    }

    /// Keyword rules inside a MySQL stored program; `at_start` tells whether keyword
    /// `kw` at token `i` is the first word of a statement.
    fn mysql_keyword(&mut self, i: usize, kw: Kw, at_start: bool, program: Program) -> usize {
        let depth0 = self.st.blocks.is_empty();
        match kw {
            Kw::End => {
                if depth0 || !self.closes_block(i) {
                    return 1;
                }
                let closed = self.st.blocks.pop().map(|b| b.kind);
                let closes_named =
                    matches!(self.kw(i + 1), Some(Kw::If | Kw::Case | Kw::Loop | Kw::While | Kw::Repeat | Kw::For));
                let used = if closes_named { 2 } else { 1 };
                // `END LOOP lbl;`, `END lbl;`: the label (whatever its spelling) ends the
                // statement; a `CASE … END` expression has none.
                let label = closed != Some(BlockKind::CaseExpression)
                    && matches!(self.kind(i + used), Some(TokenKind::Word | TokenKind::QuotedIdent))
                    && matches!(self.kind(i + used + 1), Some(TokenKind::Semicolon) | None);
                used + usize::from(label)
            }
            Kw::Case => {
                if at_start {
                    self.open(BlockKind::CaseStatement, i);
                } else if !depth0 {
                    self.open(BlockKind::CaseExpression, i);
                }
                1
            }
            Kw::If | Kw::Loop | Kw::While | Kw::Repeat | Kw::For if at_start => {
                let block = match kw {
                    Kw::If => BlockKind::If,
                    Kw::Loop => BlockKind::Loop,
                    Kw::While => BlockKind::While,
                    Kw::Repeat => BlockKind::Repeat,
                    _ => BlockKind::For,
                };
                self.open(block, i);
                self.st.at_start = matches!(kw, Kw::Loop | Kw::Repeat);
                1
            }
            Kw::Begin if at_start || (depth0 && !self.name_position(i) && self.routine_body_begin(i, program)) => {
                self.open(BlockKind::Begin, i);
                self.st.at_start = true;
                if self.kw(i + 1) == Some(Kw::Not) && self.kw(i + 2) == Some(Kw::Atomic) { 3 } else { 1 }
            }
            Kw::Then | Kw::Else => {
                self.st.at_start = self.st.blocks.last().is_some_and(|b| b.kind != BlockKind::CaseExpression);
                1
            }
            Kw::Do => {
                // The `DO` of `WHILE ... DO` / `FOR ... DO` / `CREATE EVENT ... DO`, but not
                // the `DO expr` statement.
                self.st.at_start = !at_start
                    && match self.st.blocks.last() {
                        Some(b) => matches!(b.kind, BlockKind::While | BlockKind::For),
                        None => program == Program::Event,
                    };
                1
            }
            Kw::Row => {
                self.st.at_start = depth0
                    && program == Program::Trigger
                    && i.checked_sub(1).and_then(|p| self.raw_kw(p)) == Some(Kw::Each);
                1
            }
            Kw::Follows | Kw::Precedes if at_start && depth0 && program == Program::Trigger => {
                self.st.at_start = true;
                match self.kind(i + 1) {
                    Some(TokenKind::Word | TokenKind::QuotedIdent) => 2,
                    _ => 1,
                }
            }
            Kw::Handler if !depth0 && self.kw(i + 1) == Some(Kw::For) => {
                self.st.handler = Some(true);
                2
            }
            _ => 1,
        }
    }

    /// Whether a `BEGIN` at block depth 0 that does not start a statement opens the body
    /// of a procedure or function. The body follows the parameter list and optional
    /// characteristics, so any position outside parentheses is accepted, but a `BEGIN`
    /// followed by a literal, `;` or an operator other than `(` (a parenthesised query
    /// may start the body) is a column name (`SET begin = 1`).
    /// Trigger and event bodies start at known places (`FOR EACH ROW`, `DO`), tracked
    /// by `at_start` instead.
    fn routine_body_begin(&self, i: usize, program: Program) -> bool {
        program == Program::Routine
            && self.st.paren == 0
            && (self.is_punct(i + 1, '(')
                || matches!(
                    self.kind(i + 1),
                    Some(TokenKind::Word | TokenKind::QuotedIdent | TokenKind::BlockComment) | None
                ))
    }

    /// Inside `HANDLER FOR` conditions: returns the new "condition expected" flag if
    /// token `i` still belongs to the condition list, or `None` if it starts the
    /// handler's statement.
    fn handler_condition(&self, i: usize, expect: bool) -> Option<bool> {
        match self.kind(i)? {
            TokenKind::Punct if self.is_punct(i, ',') => Some(true),
            TokenKind::String | TokenKind::Number => Some(false),
            TokenKind::Word => match self.raw_kw(i) {
                Some(Kw::SqlState | Kw::Value | Kw::SqlWarning | Kw::SqlException | Kw::Not | Kw::Found) => Some(false),
                Some(Kw::Begin | Kw::If | Kw::Case | Kw::Loop | Kw::While | Kw::Repeat) => None,
                _ if expect => Some(false),
                _ => None,
            },
            TokenKind::QuotedIdent if expect => Some(false),
            _ => None,
        }
    }
}
