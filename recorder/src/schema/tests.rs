//! Unit tests of the DDL parser: dumps, hand-written statements, errors, and never panicking.

use super::*;

fn parse(text: &str) -> Schema {
    Schema::parse("test.sql", text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn mysqldump_output_with_version_comments() {
    let dump = r#"/*M!999999\- enable the sandbox mode */ 
-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: localhost    Database: shop
-- ------------------------------------------------------
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET NAMES utf8mb4 */;
/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;

CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;

USE `shop`;

--
-- Table structure for table `orders`
--

DROP TABLE IF EXISTS `orders`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8 */;
CREATE TABLE `orders` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `status` enum('NEW','PAID','CANCELLED','a,b') NOT NULL DEFAULT 'NEW' COMMENT 'it''s; a \'status\'',
  `total` decimal(10,2) NOT NULL,
  `doc` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`doc`)),
  `note` varchar(20) DEFAULT '(;)',
  PRIMARY KEY (`id`),
  KEY `idx_status` (`status`),
  CONSTRAINT `fk` FOREIGN KEY (`id`) REFERENCES `other` (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t BEFORE INSERT ON orders FOR EACH ROW BEGIN SET NEW.total = 1; END */;;
DELIMITER ;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
-- Dump completed on 2024-01-02  3:04:05
"#;
    let schema = parse(dump);
    assert_eq!(schema.len(), 1);
    let t = schema.table("shop", "orders").unwrap();
    assert_eq!(t.qualified_name(), "shop.orders");
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "status", "total", "doc", "note"]);
    assert_eq!(t.columns[0].sql_type, "bigint(20)");
    assert!(t.columns[0].unsigned);
    assert_eq!(t.columns[1].sql_type, "enum('NEW','PAID','CANCELLED','a,b')");
    assert_eq!(t.columns[1].members, ["NEW", "PAID", "CANCELLED", "a,b"]);
    assert_eq!(t.columns[2].sql_type, "decimal(10,2)");
    assert_eq!(t.columns[2].type_name(), "decimal");
    assert!(!t.columns[2].unsigned);
    assert_eq!(t.columns[3].sql_type, "longtext");
    assert!(t.columns[3].json, "MariaDB's JSON is LONGTEXT CHECK (json_valid(col))");
    assert_eq!(t.primary_key, ["id"]);
}

#[test]
fn hand_written_statements() {
    let schema = parse(
        "# comment\ncreate table if not exists a.t1 (id int primary key, \"x y\" text, \
         j JSON, n INT UNSIGNED ZEROFILL, u SERIAL, d double precision, v character varying(3));\n\
         CREATE TABLE t2 (a INT, b INT, c VARCHAR(3) CHECK (c <> 'unsigned'), \
         CONSTRAINT pk PRIMARY KEY (b, a(10) DESC) USING BTREE);\n\
         CREATE TABLE t3 LIKE a.t1; create table t4 as select 1;",
    );
    let t1 = schema.table("a", "t1").unwrap();
    assert_eq!(t1.primary_key, ["id"]);
    let c = &t1.columns;
    assert_eq!(c[1].name, "x y");
    assert!(c[2].json);
    assert!(c[3].unsigned && c[4].unsigned);
    assert_eq!(c[5].sql_type, "double precision");
    assert_eq!(c[6].sql_type, "character varying(3)");
    let t2 = schema.table("any", "t2").expect("unqualified tables match any database");
    assert_eq!(t2.database, None);
    assert_eq!(t2.primary_key, ["b", "a"]);
    assert!(!t2.columns[2].unsigned, "words inside CHECK are not attributes");
    assert_eq!(schema.unqualified_table("t3").unwrap().columns.len(), 7);
    assert!(schema.warnings().iter().any(|w| w.contains("t4")), "{:?}", schema.warnings());
    assert!(schema.table("other", "t1").is_none(), "t1 belongs to database a");
    assert!(schema.unqualified_table("T1").is_some(), "a unique name matches by itself");
}

#[test]
fn errors_name_the_file_and_line() {
    let err = Schema::parse("dump.sql", "USE x;\n\nCREATE TABLE t (a INT DEFAULT 'oops);\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("dump.sql:3: string opened with ' is never closed"), "{err}");
    let err = Schema::parse("d.sql", "CREATE TABLE t (a INT,\n b INT;").unwrap_err().to_string();
    assert!(err.starts_with("d.sql:1: the column list of CREATE TABLE t is never closed"));
    let err = Schema::parse("d.sql", "CREATE TABLE t (a INT,\n (b) INT);").unwrap_err();
    assert!(err.to_string().starts_with("d.sql:2: in CREATE TABLE t: `(`"), "{err}");
    let err = Schema::parse("d.sql", "/* x */ SELECT 1;").unwrap_err().to_string();
    assert!(err.contains("d.sql defines no tables"), "{err}");
    let err = Schema::parse("d.sql", "CREATE TABLE t (a INT) /* never").unwrap_err();
    assert!(err.to_string().contains("comment `/*` is never closed"), "{err}");
}

#[test]
fn comments_need_a_space_after_double_dash() {
    let schema = parse("CREATE TABLE t (a INT DEFAULT 1--1\n, b INT -- c\n, `c` INT # x\n);");
    let names: Vec<&str> = schema.tables()[0].columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn the_sandbox_mode_line_of_new_dumps_is_a_client_command() {
    let schema = parse("/*M!999999\\- enable the sandbox mode */ \nCREATE TABLE t (a INT);");
    assert_eq!(schema.unqualified_table("t").unwrap().columns[0].name, "a");
}

#[test]
fn later_definitions_replace_earlier_ones() {
    let schema =
        parse("USE s; CREATE TABLE t (a INT); DROP TABLE t; CREATE TABLE `s`.`t` (b INT);");
    assert_eq!(schema.len(), 1);
    assert_eq!(schema.table("s", "t").unwrap().columns[0].name, "b");
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    /// Pieces that steer the parser into its interesting corners.
    const PIECES: &[&str] = &[
        "CREATE TABLE ",
        "create temporary table if not exists ",
        "USE ",
        "db",
        ".",
        "t",
        "`",
        "``",
        "\"",
        "'",
        "''",
        "\\",
        "(",
        ")",
        ",",
        ";",
        ";;",
        "\n",
        " ",
        "--",
        "-- ",
        "#",
        "/*",
        "*/",
        "/*!40101 ",
        "/*M!100101 ",
        "DELIMITER ;;\n",
        "DELIMITER ;\n",
        "PRIMARY KEY ",
        "KEY ",
        "UNIQUE ",
        "CONSTRAINT ",
        "CHECK (json_valid(`j`))",
        "INT",
        " UNSIGNED",
        "DECIMAL(10,2)",
        "ENUM('a','b,c')",
        "LIKE ",
        "é",
        "\u{0}",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn on_arbitrary_text(text in any::<String>()) {
            let _ = Schema::parse("p.sql", &text);
        }

        #[test]
        fn on_sql_like_text(parts in prop::collection::vec(prop::sample::select(PIECES), 0..80)) {
            let _ = Schema::parse("p.sql", &parts.concat());
        }
    }
}
