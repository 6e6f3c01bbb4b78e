//! `glossa-synth`: writes the models of `glossa_synth::presets` and
//! `glossa_synth::family_presets` to disk.

use std::path::Path;
use std::process::ExitCode;

use glossa_synth::{family_preset, family_presets, presets, FamilyModel, SynthModel};

const USAGE: &str = "\
usage: glossa-synth <command> OUT_DIR

commands:
  shipped OUT_DIR           the default model (tokenizer trained on data/corpus/pl)
  untied OUT_DIR            the untied, sharded, f16 test model
  bench OUT_DIR [--quick]   the benchmark model shaped like sdadas/polish-gpt2-medium
  family NAME OUT_DIR       a preset of glossa_synth::family_presets (`family list` names them)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["family", "list"] => {
            family_presets()
                .iter()
                .for_each(|(name, spec)| println!("{name}\t{}", spec.family.model_type()));
            return ExitCode::SUCCESS;
        }
        ["family", name, out] => return write_family(name, out),
        _ => {}
    }
    let (build, out): (fn() -> glossa_synth::Result<SynthModel>, &str) = match args.as_slice() {
        ["shipped", out] => (presets::shipped, out),
        ["untied", out] => (presets::untied_test, out),
        ["bench", out] => (|| presets::bench(false), out),
        ["bench", out, "--quick"] | ["bench", "--quick", out] => (|| presets::bench(true), out),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match build().and_then(|model| model.write(Path::new(out)).map(|()| model)) {
        Ok(model) => {
            let s = &model.spec;
            println!(
                "wrote {out}: {} layers, {} heads, width {}, {} neurons, {} embedding rows, {} plants",
                s.n_layer,
                s.n_head,
                s.n_embd,
                s.n_inner,
                s.vocab_size,
                model.plants.plants.len()
            );
            ExitCode::SUCCESS
        }
        Err(error) => report(&error),
    }
}

fn write_family(name: &str, out: &str) -> ExitCode {
    let Some(spec) = family_preset(name) else {
        eprintln!("error: no family preset {name:?}; `glossa-synth family list` names them");
        return ExitCode::from(2);
    };
    match FamilyModel::new(spec).and_then(|model| model.write(Path::new(out)).map(|()| model)) {
        Ok(model) => {
            let s = &model.spec;
            println!(
                "wrote {out}: {}, {} layers, {}/{} heads of width {}, width {}, {} neurons, {} embedding rows",
                s.family.model_type(),
                s.num_hidden_layers,
                s.num_attention_heads,
                s.num_key_value_heads,
                s.head_dim,
                s.hidden_size,
                s.intermediate_size,
                s.vocab_size
            );
            ExitCode::SUCCESS
        }
        Err(error) => report(&error),
    }
}

/// Prints `error` with its chain of causes.
fn report(error: &glossa_synth::Error) -> ExitCode {
    let mut message = format!("error: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    eprintln!("{message}");
    ExitCode::FAILURE
}
