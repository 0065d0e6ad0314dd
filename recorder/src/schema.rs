//! Column names, types and keys from `CREATE TABLE` statements (in progress).
