use super::*;

#[test]
fn masks_everywhere() {
    let r = Redactor::new("abc123secret");
    assert_eq!(
        r.clean("key=abc123secret&x=abc123secret"),
        "key=****&x=****"
    );
    assert!(matches!(r.clean("nothing here"), Cow::Borrowed(_)));
    let q = Redactor::new("ab\"cd\\ef");
    let json = serde_json::json!({"m": "key ab\"cd\\ef"}).to_string();
    assert!(!q.clean(&json).contains("cd"), "{}", q.clean(&json));
}
