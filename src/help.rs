//! The command line's own words in the chosen language: `--help` (what each command
//! and flag does, the headings, defaults and choices) and the usage errors.
//!
//! The definition (`Cli` and its doc comments) is the English. For another language
//! the built [`Command`] gets its texts from the catalogue (`locales/help.yml`):
//! `help.<command>.about`, `help.<command>.<arg>` or, for the input flags every command
//! shares, `help.arg.<arg>`. The catalogue's English must equal the definition's (a
//! test checks it), so the two cannot drift apart.

use clap::builder::{PossibleValue, Resettable};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, Command};
use rust_i18n::t;
use wsscope::output::Lang;

/// `cmd` with its help in `lang` (English: as defined). Built, ready to parse.
pub fn localized(mut cmd: Command, lang: Lang) -> Command {
    cmd.build();
    if lang == Lang::En {
        return cmd;
    }
    let name = cmd.get_name().to_string();
    localize(cmd, lang, "root", &name)
}

/// The catalogue's text for `key` in `lang`, if it has one.
fn text(lang: Lang, key: &str) -> Option<String> {
    crate::_rust_i18n_try_translate(lang.code(), key).map(|t| t.into_owned())
}

/// The key of a command's own texts: the root is `root`, the others their name.
fn command_key(path: &str) -> String {
    format!("help.{path}")
}

/// The catalogue's words for argument `id` of command `path`.
fn arg_text(lang: Lang, path: &str, id: &str) -> Option<String> {
    text(lang, &format!("help.{path}.{id}")).or_else(|| text(lang, &format!("help.arg.{id}")))
}

fn localize(mut cmd: Command, lang: Lang, path: &str, bin: &str) -> Command {
    let l = lang.code();
    let key = command_key(path);
    if let Some(about) = text(lang, &format!("{key}.about")) {
        cmd = cmd.about(about).long_about(Resettable::Reset);
    }
    if cmd.get_after_help().is_some() {
        if let Some(after) = text(lang, &format!("{key}.after")) {
            cmd = cmd.after_help(after).after_long_help(Resettable::Reset);
        }
    }
    let heading = t!("help.heading.usage", locale = l).into_owned();
    // Lines after the first line up under the first, past the heading.
    let indent = " ".repeat(wsscope::text::width(&heading));
    let usage: Vec<String> = cmd
        .render_usage()
        .to_string()
        .trim_start_matches("Usage:")
        .trim_start()
        .replace("[OPTIONS]", &t!("help.options_placeholder", locale = l))
        .replace("COMMAND", &t!("help.command_placeholder", locale = l))
        .lines()
        .enumerate()
        .map(|(i, line)| match i {
            0 => line.to_string(),
            _ => format!("{indent}{}", line.trim_start()),
        })
        .collect();
    // The headings are the language's (clap's own would end in an ASCII colon), so the
    // template lists the sections this command has.
    let mut template = format!("{{before-help}}{{about-with-newline}}\n{heading}{{usage}}");
    let visible = |a: &&Arg| !a.is_hide_set();
    let mut section = |key: &str, tag: &str| {
        let heading = t!(key, locale = l);
        template.push_str(&format!("\n\n{heading}\n{{{tag}}}"));
    };
    if cmd.has_subcommands() {
        section("help.heading.commands", "subcommands");
    }
    if cmd.get_positionals().any(|a| visible(&a)) {
        section("help.heading.arguments", "positionals");
    }
    if cmd
        .get_arguments()
        .any(|a| !a.is_positional() && visible(&a))
    {
        section("help.heading.options", "options");
    }
    // clap puts a blank line before the text after the sections.
    template.push_str("{after-help}");
    cmd = cmd
        .override_usage(usage.join("\n"))
        .help_template(template)
        .mut_args(|a| arg(a, lang, path));
    let sub_bin = bin.to_string();
    cmd.mut_subcommands(|s| {
        let name = s.get_name().to_string();
        let bin = format!("{sub_bin} {name}");
        localize(s, lang, &name, &bin)
    })
}

/// One argument's help in `lang`, under the language's heading, with its default
/// and its choices said in the language too.
fn arg(a: Arg, lang: Lang, path: &str) -> Arg {
    let l = lang.code();
    let id = a.get_id().as_str().to_string();
    let mut help = match id.as_str() {
        // clap's own flags ("see more" when the command has a longer help).
        "help"
            if a.get_help()
                .is_some_and(|h| h.to_string().contains("--help")) =>
        {
            t!("help.flag.help_more", locale = l).into_owned()
        }
        "help" => t!("help.flag.help", locale = l).into_owned(),
        "version" => t!("help.flag.version", locale = l).into_owned(),
        _ => match arg_text(lang, path, &id) {
            Some(h) => h,
            None => return a,
        },
    };
    let mut a = a;
    let mut long = None;
    let sep = t!("help.list_separator", locale = l).into_owned();
    let values: Vec<PossibleValue> = a
        .get_possible_values()
        .into_iter()
        .filter(|v| !v.is_hide_set())
        .collect();
    let takes_values = a.get_action().takes_values();
    if takes_values && !values.is_empty() && !a.is_hide_possible_values_set() {
        let names: Vec<&str> = values.iter().map(|v| v.get_name()).collect();
        // As clap does: the names in the short help, each with its help in the long one.
        let helps: Vec<String> = values
            .iter()
            .filter_map(|v| {
                let h = text(lang, &format!("help.value.{id}.{}", v.get_name()))?;
                Some(
                    t!(
                        "help.value_with_help",
                        locale = l,
                        value = v.get_name(),
                        help = h
                    )
                    .into_owned(),
                )
            })
            .collect();
        if !helps.is_empty() {
            long = Some(format!(
                "{help}\n\n{}\n{}",
                t!("help.possible_long", locale = l),
                helps.join("\n")
            ));
        }
        help.push_str(&t!("help.possible", locale = l, values = names.join(&sep)));
        a = a.hide_possible_values(true);
    }
    let defaults: Vec<String> = a
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if takes_values && !defaults.is_empty() && !a.is_hide_default_value_set() {
        let default = t!("help.default", locale = l, value = defaults.join(&sep)).into_owned();
        help.push_str(&default);
        if let Some(long) = long.as_mut() {
            let line = t!("help.default_line", locale = l, value = defaults.join(&sep));
            long.push_str(&format!("\n{line}"));
        }
        a = a.hide_default_value(true);
    }
    let a = a.help(help);
    match long {
        Some(long) => a.long_help(long),
        None => a.long_help(Resettable::Reset),
    }
}

/// A usage error (or `--help`) of the command line, in `lang`: exits.
pub fn exit_with(e: clap::Error, lang: Lang) -> ! {
    let words = match (lang, e.kind()) {
        (Lang::En, _)
        | (
            _,
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand,
        ) => e.exit(),
        (_, kind) => usage_error(&e, kind, lang),
    };
    let l = lang.code();
    let usage = match e.get(ContextKind::Usage) {
        Some(ContextValue::StyledStr(u)) => {
            u.to_string()
                .replacen("Usage: ", &t!("help.heading.usage", locale = l), 1)
        }
        _ => String::new(),
    };
    let mut out = t!("help.error", locale = l, what = words).into_owned();
    if !usage.is_empty() {
        out.push_str("\n\n");
        out.push_str(&usage);
    }
    out.push_str("\n\n");
    out.push_str(&t!("help.error_more", locale = l));
    eprintln!("{out}");
    std::process::exit(2);
}

/// What was wrong, from the error's parts (its own text, quoted, when it has none).
fn usage_error(e: &clap::Error, kind: ErrorKind, lang: Lang) -> String {
    let l = lang.code();
    let sep = t!("help.list_separator", locale = l);
    let one = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) if !v.is_empty() => Some(v.join(&sep)),
        Some(ContextValue::StyledStr(s)) => Some(s.to_string()),
        Some(ContextValue::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let arg = one(ContextKind::InvalidArg).unwrap_or_default();
    let value = one(ContextKind::InvalidValue).unwrap_or_default();
    let said = match kind {
        ErrorKind::InvalidValue => match one(ContextKind::ValidValue) {
            Some(valid) => t!(
                "help.err.invalid_value",
                locale = l,
                arg = arg,
                value = value,
                valid = valid
            ),
            None => t!("help.err.empty_value", locale = l, arg = arg),
        },
        ErrorKind::ValueValidation => {
            let why = std::error::Error::source(e)
                .map(|s| s.to_string())
                .unwrap_or_default();
            t!(
                "help.err.value_validation",
                locale = l,
                arg = arg,
                value = value,
                why = why
            )
        }
        ErrorKind::UnknownArgument => t!("help.err.unknown_argument", locale = l, arg = arg),
        ErrorKind::InvalidSubcommand => {
            let cmd = one(ContextKind::InvalidSubcommand).unwrap_or_default();
            t!("help.err.invalid_subcommand", locale = l, command = cmd)
        }
        ErrorKind::MissingRequiredArgument => {
            t!("help.err.missing_required", locale = l, args = arg)
        }
        ErrorKind::ArgumentConflict => {
            let other = one(ContextKind::PriorArg).unwrap_or_default();
            t!("help.err.conflict", locale = l, arg = arg, other = other)
        }
        _ => {
            let own = e.render().to_string();
            let own = own
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ");
            t!("help.err.other", locale = l, text = own)
        }
    };
    let mut said = said.into_owned();
    if let Some(s) = one(ContextKind::SuggestedArg)
        .or_else(|| one(ContextKind::SuggestedSubcommand))
        .or_else(|| one(ContextKind::SuggestedValue))
    {
        said.push_str(&t!("help.err.suggested", locale = l, suggested = s));
    }
    said
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every command and flag of the definition, with its English help, and the
    /// catalogue key it is translated by.
    fn texts(cmd: &Command, path: &str, out: &mut Vec<(String, String)>) {
        if let Some(about) = cmd.get_about() {
            out.push((format!("{}.about", command_key(path)), about.to_string()));
        }
        if let Some(after) = cmd.get_after_help() {
            out.push((format!("{}.after", command_key(path)), after.to_string()));
        }
        for a in cmd.get_arguments() {
            let id = a.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            let own = format!("help.{path}.{id}");
            let key = if text(Lang::En, &own).is_some() {
                own
            } else {
                format!("help.arg.{id}")
            };
            out.push((key, help));
            for v in a.get_possible_values() {
                if let Some(h) = v.get_help() {
                    out.push((format!("help.value.{id}.{}", v.get_name()), h.to_string()));
                }
            }
        }
        for s in cmd.get_subcommands() {
            if s.get_name() != "help" {
                texts(s, s.get_name(), out);
            }
        }
    }

    #[test]
    fn every_help_text_is_in_the_catalogue_as_defined() {
        let mut cmd = crate::Cli::command();
        cmd.build();
        let mut all = Vec::new();
        texts(&cmd, "root", &mut all);
        assert!(all.len() > 40, "{}", all.len());
        let mut wrong = Vec::new();
        for (key, english) in &all {
            match (text(Lang::En, key), text(Lang::Zh, key)) {
                (Some(en), Some(zh)) if en == *english && zh != en => {}
                (en, zh) => wrong.push(format!("{key}: defined {english:?}, en {en:?}, zh {zh:?}")),
            }
        }
        assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    }

    /// The Chinese help of every command: nothing left of the definition's English.
    #[test]
    fn chinese_help_replaces_every_english_text() {
        let cmd = localized(crate::Cli::command(), Lang::Zh);
        let mut english = Vec::new();
        texts(&crate::Cli::command(), "root", &mut english);
        let mut shown = String::new();
        let mut all = vec![cmd.clone()];
        while let Some(mut c) = all.pop() {
            shown.push_str(&c.render_long_help().to_string());
            shown.push_str(&c.render_help().to_string());
            all.extend(c.get_subcommands().cloned());
        }
        for (key, text) in english {
            assert!(!shown.contains(&text), "{key}: {text:?} left in\n{shown}");
        }
        for gone in [
            "Usage:",
            "Options:",
            "Commands:",
            "[default:",
            "[possible values:",
            "Print help",
        ] {
            assert!(!shown.contains(gone), "{gone:?} left in\n{shown}");
        }
        let english = localized(crate::Cli::command(), Lang::En)
            .render_long_help()
            .to_string();
        assert!(
            english.contains("Usage:") && english.contains("Print help"),
            "{english}"
        );
    }

    #[test]
    fn usage_errors_say_what_is_wrong_in_chinese() {
        let cmd = localized(crate::Cli::command(), Lang::Zh);
        let cases: [(&[&str], &str); 4] = [
            (&["wsscope", "stats", "--bogus"], "--bogus"),
            (&["wsscope", "print", "--lang", "fr", "-r", "x"], "fr"),
            (&["wsscope", "view", "--speed", "0", "-r", "x"], "--speed"),
            (&["wsscope", "stats", "-r", "x", "-i", "lo"], "不能和"),
        ];
        for (args, want) in cases {
            let e = cmd
                .clone()
                .try_get_matches_from(args)
                .expect_err("an error");
            let said = usage_error(&e, e.kind(), Lang::Zh);
            assert!(said.contains(want), "{args:?}: {said}");
            assert!(
                !said.contains("invalid") && !said.contains("unexpected"),
                "{said}"
            );
        }
    }
}
