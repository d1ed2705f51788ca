use super::*;

#[test]
fn size_cap_counts_every_included_file() {
    let dir = std::env::temp_dir().join(format!("rkd-lexer-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let part = dir.join("part.conf");
    std::fs::write(&part, format!("! {}\n", "x".repeat(57))).unwrap(); // 60 bytes
    let main = dir.join("main.conf");
    std::fs::write(&main, "include part.conf\ninclude part.conf\n").unwrap(); // 36 bytes
    let mut lx = Lexer::new(LexOptions {
        config_id: "x",
        check_includes: false,
    });
    lx.bytes_left.set(100);
    lx.file(&main, None);
    let _ = std::fs::remove_dir_all(&dir);
    // 36 + 60 fit; the second include would make 156.
    assert_eq!(lx.errors.len(), 1, "{:?}", lx.errors);
    let e = lx.errors[0].to_string();
    assert!(
        e.contains("main.conf:2:9: configuration larger than 64 MiB in total"),
        "{e}"
    );
}

#[test]
fn comments_start_anywhere_outside_quotes() {
    assert_eq!(strip_comment("a b # c"), "a b ");
    assert_eq!(strip_comment("! all"), "");
    assert_eq!(strip_comment("a#b !c"), "a");
    assert_eq!(strip_comment("a\\#b !c"), "a\\#b ");
    assert_eq!(mid_word_comment("auth_pass ab!cd"), Some(12));
    assert_eq!(mid_word_comment("a # b"), None);
    assert_eq!(strip_comment("x \"q # !\" y ! z"), "x \"q # !\" y ");
    assert_eq!(strip_comment("x 'it''s' # c"), "x 'it''s' ");
    // Multi-byte characters around the cut (it works on bytes).
    assert_eq!(strip_comment("né #ü"), "né ");
    assert_eq!(strip_comment("\"é#\"ü!x"), "\"é#\"ü");
    assert_eq!(
        strip_comment("plain line, nothing to cut"),
        "plain line, nothing to cut"
    );
    assert_eq!(
        strip_comment("a \"unterminated # x"),
        "a \"unterminated # x"
    );
}

#[test]
fn escapes_in_quoted_strings() {
    assert_eq!(unescape(r"a\tb\n"), "a\tb\n");
    assert_eq!(unescape(r"\044\x41\cA\q\\"), "$A\x01q\\");
    assert_eq!(unescape(r"end\"), "end\\");
}

#[test]
fn definitions_need_a_valid_name_and_no_space_before_equals() {
    assert_eq!(parse_definition("$A_1=x y"), Some(("A_1", "x y")));
    assert_eq!(parse_definition("  $E="), Some(("E", "")));
    assert_eq!(parse_definition("$1A=x"), None);
    assert_eq!(parse_definition("$A =x"), None);
    assert_eq!(parse_definition("x $A=1"), None);
}

#[test]
fn seq_and_lst_values() {
    let v = seq_values("i, 3", false).expect("seq");
    assert_eq!(v.len(), 3);
    assert_eq!(
        seq_values("i, 10, -5, 0", false).map(|v| v.len()).ok(),
        Some(3)
    );
    assert_eq!(seq_values("h, 0x9, 0xb", true).expect("hex")[2][0].1, "b");
    assert!(seq_values("i, 0, 0, 5", false).is_err());
    let l = lst_values("{a,b}, {1,2}, {3,4}").expect("lst");
    assert_eq!(
        l[1],
        vec![
            ("a".to_string(), "3".to_string()),
            ("b".to_string(), "4".to_string())
        ]
    );
    assert!(lst_values("{a,b}, {1}").is_err());
}
