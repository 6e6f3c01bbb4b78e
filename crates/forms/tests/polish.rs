//! Debian's Polish dictionary (`apt-get install hunspell-pl`) read both ways:
//! every form Hunspell's own `unmunch` expands from a sample of its entries
//! (`data/pl_PL-forms.tsv`) has that entry among its lemmas, and the entry's
//! family holds every one of those forms. Without the dictionary the test
//! says it was skipped, except under `CI=true`, where it fails.

use std::collections::BTreeMap;
use std::path::Path;

use glossa_forms::{Dictionary, DEBIAN_POLISH};

#[test]
fn unmunched_forms_and_their_lemmas_agree_both_ways() {
    if !Path::new(&format!("{DEBIAN_POLISH}.dic")).is_file() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs Debian's hunspell-pl ({DEBIAN_POLISH}.dic)"
        );
        eprintln!("SKIPPED: no {DEBIAN_POLISH}.dic (apt-get install hunspell-pl)");
        return;
    }
    let dictionary = Dictionary::open(Path::new(DEBIAN_POLISH)).expect("the dictionary reads");
    let gold = include_str!("data/pl_PL-forms.tsv");
    let mut forms: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for line in gold.lines().filter(|l| !l.starts_with('#')) {
        let (lemma, form) = line.split_once('\t').expect("lemma<TAB>form");
        forms.entry(lemma).or_default().push(form);
    }
    assert!(forms.len() >= 9 && forms.values().map(Vec::len).sum::<usize>() > 100);
    for (lemma, forms) in &forms {
        let family = dictionary.family(lemma);
        for form in forms {
            let form = form.to_lowercase();
            assert!(
                dictionary.lemmas(&form).iter().any(|l| l == lemma),
                "{form} -> {lemma}"
            );
            assert!(family.contains(&form), "{lemma} -> {form}");
        }
    }
    // The planted neuron's forms are one word; `dieta` and `zdrowie` are not.
    let family = dictionary.family("dietą");
    for form in ["dieta", "diety", "diecie", "dietę", "dietami"] {
        assert!(family.iter().any(|f| f == form), "{form}");
    }
    assert!(!family.iter().any(|f| f == "zdrowie"));
}
