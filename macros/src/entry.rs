//! `#[turnstile::main]` and `#[turnstile::test]`: an `async fn` run to completion on a
//! runtime built for it.
//!
//! The expansion of
//!
//! ```text
//! #[turnstile::test(probes = Counters, budget = 8)]
//! async fn reads() -> Result<(), E> { body }
//! ```
//!
//! is
//!
//! ```text
//! #[::core::prelude::v1::test]
//! fn reads() -> Result<(), E> {
//!     async fn reads() -> Result<(), E> { body }
//!     let runtime = ::turnstile::Runtime::builder()
//!         .probes(::turnstile::probes::Level::Counters)
//!         .budget(::core::option::Option::Some(8))
//!         .build()
//!         .expect("..");
//!     runtime.block_on(reads())
//! }
//! ```
//!
//! The body stays an `async fn` of its own, nested in the sync one, so that its return
//! type is declared where `?` needs it, and the errors in it point at the user's code.

use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ItemFn, Lit, Meta, Token};

/// Whether `turnstile::Builder::start_paused` exists: it does, so `start_paused = true`
/// calls `.start_paused(true)` on the builder. (Before the paused clock landed this was
/// `false`, and the argument a compile error that said so; the tests keep both.)
pub(crate) const PAUSED_CLOCK: bool = true;

/// Which of the two attributes is being expanded: the names in the error messages and
/// the `#[test]` attribute differ, nothing else.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    fn attribute(self) -> &'static str {
        match self {
            Kind::Main => "#[turnstile::main]",
            Kind::Test => "#[turnstile::test]",
        }
    }
}

/// What the arguments ask of the builder. Each field is the argument's value, spanned
/// at the argument, so that the code calling the builder points there.
#[derive(Default)]
struct Config {
    /// `probes = Off|Counters|Timing|Trace`: the variant of `probes::Level`.
    probes: Option<syn::Ident>,
    /// `budget = N` (`Some(N)`) or `budget = None`.
    budget: Option<(Span, Option<u32>)>,
    /// `name = "..."`.
    name: Option<syn::LitStr>,
    /// `start_paused = true`: the span of the argument.
    start_paused: Option<Span>,
    /// `crate = "path"`: where turnstile is, if not `::turnstile`.
    krate: Option<syn::Path>,
    /// The arguments seen, to refuse one given twice.
    seen: Vec<String>,
}

/// The probe levels `probes = ..` takes.
const LEVELS: [&str; 4] = ["Off", "Counters", "Timing", "Trace"];

/// The arguments both attributes take, for the error messages.
const ARGUMENTS: &str = "`probes = Off|Counters|Timing|Trace`, `budget = N` (or `budget = None`), \
                         `name = \"...\"`, `flavor = \"current_thread\"`, \
                         `start_paused = true` and `crate = \"path\"`";

/// `#[turnstile::main]` or `#[turnstile::test]` on `item`. Errors in the arguments still
/// expand the function (with the arguments that were right), beside the errors, so that
/// a wrong argument is the only error the user sees. An item that is not a function the
/// attribute can run is refused alone.
pub(crate) fn expand(kind: Kind, attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    expand_with(kind, attr, item, PAUSED_CLOCK)
}

/// [`expand`], with whether the builder has `start_paused` given (the tests take both).
pub(crate) fn expand_with(
    kind: Kind,
    attr: TokenStream2,
    item: TokenStream2,
    paused_clock: bool,
) -> TokenStream2 {
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    let (config, e) = parse_config(kind, attr, paused_clock);
    if let Some(e) = e {
        push(e);
    }
    let mut function: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let span = item
                .clone()
                .into_iter()
                .next()
                .map_or_else(Span::call_site, |t| t.span());
            let e = syn::Error::new(span, format!("{} goes on an `async fn`", kind.attribute()));
            let e = e.into_compile_error();
            return quote!(#e #item);
        }
    };
    if let Err(e) = check_signature(kind, &function) {
        let e = e.into_compile_error();
        if function.sig.asyncness.is_none() {
            // A plain `fn`: as written, its body still checked.
            return quote!(#e #function);
        }
        // An `async fn` with parameters or generics, nested in a plain `fn` without
        // them: rustc's errors about an async, generic or parameterized `main` would
        // only repeat the attribute's.
        let ident = &function.sig.ident;
        let vis = &function.vis;
        return quote! {
            #e
            #vis fn #ident() {
                #[allow(dead_code, unused)]
                #function
            }
        };
    }
    if kind == Kind::Test {
        if let Err(e) = check_no_second_test(&function.attrs) {
            push(e);
            function.attrs.retain(|a| !is_test_attribute(a));
        }
    }
    let expanded = write(kind, &config, function, paused_clock);
    match errors {
        Some(e) => {
            let e = e.into_compile_error();
            quote!(#e #expanded)
        }
        None => expanded,
    }
}

/// The arguments, each checked on its own: the config of the right ones, and the
/// errors of the others.
fn parse_config(
    kind: Kind,
    attr: TokenStream2,
    paused_clock: bool,
) -> (Config, Option<syn::Error>) {
    let mut config = Config::default();
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr) {
        Ok(metas) => metas,
        Err(e) => {
            let msg = format!(
                "{}: arguments are `key = value`, separated by commas: {ARGUMENTS}",
                kind.attribute()
            );
            return (config, Some(syn::Error::new(e.span(), msg)));
        }
    };
    let mut errors: Option<syn::Error> = None;
    for meta in metas {
        if let Err(e) = argument(kind, &mut config, &meta, paused_clock) {
            match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            }
        }
    }
    (config, errors)
}

/// One argument into `config`.
fn argument(kind: Kind, config: &mut Config, meta: &Meta, paused_clock: bool) -> syn::Result<()> {
    let attribute = kind.attribute();
    let key = meta
        .path()
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_else(|| meta.path().to_token_stream().to_string().replace(' ', ""));
    let value = match meta {
        Meta::NameValue(nv) => &nv.value,
        Meta::Path(_) | Meta::List(_) => {
            let expected = match key.as_str() {
                "start_paused" => "`start_paused = true`".to_string(),
                "probes" => "`probes = Counters` (or `Off`, `Timing`, `Trace`)".to_string(),
                "budget" => "`budget = 128` (or `budget = None`)".to_string(),
                "name" | "flavor" | "crate" | "worker_threads" => format!("`{key} = ...`"),
                _ => return Err(unknown(attribute, meta, &key)),
            };
            return Err(syn::Error::new_spanned(
                meta,
                format!("{attribute}: write {expected}"),
            ));
        }
    };
    if config.seen.contains(&key) {
        return Err(syn::Error::new_spanned(
            meta,
            format!("{attribute}: `{key}` is given twice"),
        ));
    }
    config.seen.push(key.clone());
    match key.as_str() {
        "probes" => {
            let level = match value {
                Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => {
                    p.path.get_ident().cloned()
                }
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(syn::Ident::new(&s.value(), s.span())),
                _ => None,
            };
            match level {
                Some(level) if LEVELS.iter().any(|l| level == l) => {
                    config.probes = Some(level);
                    Ok(())
                }
                Some(level) => Err(syn::Error::new_spanned(
                    value,
                    format!(
                        "{attribute}: `probes = {level}`: the probe levels are `Off`, \
                         `Counters`, `Timing` (the default) and `Trace`"
                    ),
                )),
                None => Err(syn::Error::new_spanned(
                    value,
                    format!(
                        "{attribute}: `probes` takes a probe level: `Off`, `Counters`, \
                         `Timing` (the default) or `Trace`"
                    ),
                )),
            }
        }
        "budget" => {
            let budget = match value {
                Expr::Lit(ExprLit {
                    lit: Lit::Int(n), ..
                }) => n.base10_parse::<u32>().map(Some).map_err(|_| {
                    syn::Error::new_spanned(
                        n,
                        format!(
                            "{attribute}: `budget` takes a number of operations per poll, \
                             from 0 to {} (`budget = 128`), or `None` for no budget",
                            u32::MAX
                        ),
                    )
                })?,
                Expr::Path(p) if p.path.is_ident("None") => None,
                _ => {
                    return Err(syn::Error::new_spanned(
                        value,
                        format!(
                            "{attribute}: `budget` takes a number of operations per poll \
                             (`budget = 128`), or `None` for no budget"
                        ),
                    ))
                }
            };
            config.budget = Some((meta.span(), budget));
            Ok(())
        }
        "name" => {
            config.name = Some(string(attribute, "name", value, "the runtime's name")?);
            Ok(())
        }
        "crate" => {
            let path = string(attribute, "crate", value, "the path of the turnstile crate")?;
            config.krate = Some(path.parse().map_err(|_| {
                syn::Error::new_spanned(
                    &path,
                    format!(
                        "{attribute}: `crate = \"...\"` takes a path, as \
                         `crate = \"my_turnstile\"`"
                    ),
                )
            })?);
            Ok(())
        }
        "flavor" => {
            let flavor = string(attribute, "flavor", value, "`\"current_thread\"`")?;
            match flavor.value().as_str() {
                "current_thread" => Ok(()),
                "multi_thread" => Err(syn::Error::new_spanned(
                    &flavor,
                    format!(
                        "{attribute}: turnstile is single-threaded and has only the \
                         `current_thread` flavor: remove `flavor = \"multi_thread\"`. For \
                         more cores, run one runtime per thread (the `per_core` example); \
                         for blocking work, `turnstile::spawn_blocking`"
                    ),
                )),
                other => Err(syn::Error::new_spanned(
                    &flavor,
                    format!(
                        "{attribute}: unknown flavor `{other}`: turnstile has only \
                         `flavor = \"current_thread\"`"
                    ),
                )),
            }
        }
        "worker_threads" => Err(syn::Error::new_spanned(
            meta,
            format!(
                "{attribute}: turnstile is single-threaded: it has no worker threads. \
                 Remove `worker_threads`; for more cores, run one runtime per thread (the \
                 `per_core` example); for blocking work, `turnstile::spawn_blocking` \
                 (its pool's size is `Builder::blocking_threads`)"
            ),
        )),
        "start_paused" => {
            let on = match value {
                Expr::Lit(ExprLit {
                    lit: Lit::Bool(b), ..
                }) => b.value,
                _ => {
                    return Err(syn::Error::new_spanned(
                        value,
                        format!("{attribute}: `start_paused` takes `true` or `false`"),
                    ))
                }
            };
            if on && !paused_clock {
                return Err(syn::Error::new_spanned(
                    meta,
                    format!(
                        "{attribute}: `start_paused = true` needs a paused clock, and \
                         turnstile has none yet (`turnstile::time::pause` and \
                         `Builder::start_paused` are planned): remove the argument, and \
                         use real, short durations meanwhile"
                    ),
                ));
            }
            if on {
                config.start_paused = Some(meta.span());
            }
            Ok(())
        }
        "unhandled_panic" => Err(syn::Error::new_spanned(
            meta,
            format!(
                "{attribute}: `unhandled_panic` is not supported: in turnstile, a task's \
                 panic is caught and returned by its `JoinHandle` as a `JoinError`"
            ),
        )),
        _ => Err(unknown(attribute, meta, &key)),
    }
}

/// The error for an argument neither attribute takes.
fn unknown(attribute: &str, meta: &Meta, key: &str) -> syn::Error {
    syn::Error::new_spanned(
        meta.path(),
        format!("{attribute}: unknown argument `{key}`: it takes {ARGUMENTS}"),
    )
}

/// The string literal of `key = "..."`.
fn string(attribute: &str, key: &str, value: &Expr, what: &str) -> syn::Result<syn::LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.clone()),
        _ => Err(syn::Error::new_spanned(
            value,
            format!("{attribute}: `{key}` takes a string literal: {what}"),
        )),
    }
}

/// Refuses what the attribute cannot run: a function that is not `async`, one with
/// parameters or generic parameters.
fn check_signature(kind: Kind, f: &ItemFn) -> syn::Result<()> {
    let attribute = kind.attribute();
    let sig = &f.sig;
    if sig.asyncness.is_none() {
        let span = sig
            .fn_token
            .span
            .join(sig.ident.span())
            .unwrap_or(sig.ident.span());
        return Err(syn::Error::new(
            span,
            format!(
                "{attribute} runs an `async fn` on a runtime, and `{}` is not async: \
                 make it `async fn`",
                sig.ident
            ),
        ));
    }
    if !sig.inputs.is_empty() {
        let what = match kind {
            Kind::Main => "`main` takes no arguments (read them with `std::env::args`)",
            Kind::Test => "a test takes no arguments",
        };
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            format!("{attribute}: {what}"),
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new_spanned(
            variadic,
            format!("{attribute}: the function takes no arguments"),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            format!("{attribute}: the function cannot be generic"),
        ));
    }
    Ok(())
}

/// `#[test]` (under any of its paths) is what `#[turnstile::test]` adds: written too, it
/// would make the function a test twice, and a sync test of an async fn.
fn is_test_attribute(attr: &Attribute) -> bool {
    let segments: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["test"] => true,
        ["core" | "std", "prelude", _, "test"] => true,
        // `#[turnstile::test]` twice.
        ["turnstile", "test"] => true,
        _ => false,
    }
}

/// The error for a second test attribute.
fn check_no_second_test(attrs: &[Attribute]) -> syn::Result<()> {
    match attrs.iter().find(|a| is_test_attribute(a)) {
        Some(attr) => Err(syn::Error::new_spanned(
            attr,
            "#[turnstile::test] makes the function a test already (it adds `#[test]` \
             to the sync function it writes): remove this attribute",
        )),
        None => Ok(()),
    }
}

/// The sync function that runs `function` on a runtime.
fn write(kind: Kind, config: &Config, function: ItemFn, paused_clock: bool) -> TokenStream2 {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    let krate = config
        .krate
        .as_ref()
        .map_or_else(|| quote!(::turnstile), ToTokens::to_token_stream);
    let mut builder = quote!(#krate::Runtime::builder());
    if let Some(level) = &config.probes {
        builder = quote_spanned! {level.span()=> #builder.probes(#krate::probes::Level::#level) };
    }
    if let Some((span, budget)) = &config.budget {
        let budget = match budget {
            Some(n) => quote!(::core::option::Option::Some(#n)),
            None => quote!(::core::option::Option::None),
        };
        builder = quote_spanned! {*span=> #builder.budget(#budget) };
    }
    if let Some(name) = &config.name {
        builder = quote_spanned! {name.span()=> #builder.name(#name) };
    }
    if let (Some(span), true) = (config.start_paused, paused_clock) {
        builder = quote_spanned! {span=> #builder.start_paused(true) };
    }
    let expect = format!(
        "{}: building the turnstile runtime failed",
        kind.attribute()
    );
    let test = match kind {
        Kind::Main => quote!(),
        Kind::Test => quote!(#[::core::prelude::v1::test]),
    };
    let ident = &sig.ident;
    let mut outer = sig.clone();
    outer.asyncness = None;
    quote! {
        #test
        #(#attrs)*
        #vis #outer {
            #sig #block
            let runtime = #builder.build().expect(#expect);
            runtime.block_on(#ident())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn main(attr: TokenStream2, item: TokenStream2) -> String {
        expand(Kind::Main, attr, item).to_string()
    }

    fn test(attr: TokenStream2, item: TokenStream2) -> String {
        expand(Kind::Test, attr, item).to_string()
    }

    /// The messages of the `compile_error!`s in an expansion.
    fn errors(out: &str) -> Vec<&str> {
        out.split("compile_error ! {")
            .skip(1)
            .map(|s| s.split('}').next().unwrap().trim())
            .collect()
    }

    #[test]
    fn main_is_a_sync_fn_that_blocks_on_the_body() {
        let out = main(
            quote!(),
            quote!(
                async fn main() {
                    work().await;
                }
            ),
        );
        assert!(out.starts_with("fn main ()"), "{out}");
        assert!(
            out.contains("async fn main () { work () . await ; }"),
            "{out}"
        );
        assert!(
            out.contains("let runtime = :: turnstile :: Runtime :: builder () . build ()"),
            "{out}"
        );
        assert!(out.contains("runtime . block_on (main ())"), "{out}");
        assert!(!out.contains("test"), "{out}");
        assert!(errors(&out).is_empty(), "{out}");
    }

    #[test]
    fn the_return_type_is_kept_on_both_functions() {
        let out = test(
            quote!(),
            quote!(
                async fn t() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        assert!(
            out.starts_with("# [:: core :: prelude :: v1 :: test] fn t () -> Result < () , E >"),
            "{out}"
        );
        assert!(out.contains("async fn t () -> Result < () , E >"), "{out}");
    }

    #[test]
    fn arguments_become_builder_calls() {
        let out = test(
            quote!(
                probes = Counters,
                budget = 8,
                name = "loop",
                flavor = "current_thread"
            ),
            quote!(
                async fn t() {}
            ),
        );
        assert!(
            out.contains(
                ". probes (:: turnstile :: probes :: Level :: Counters) \
                 . budget (:: core :: option :: Option :: Some (8u32)) . name (\"loop\")"
            ),
            "{out}"
        );
        let out = test(
            quote!(budget = None, probes = "Trace"),
            quote!(
                async fn t() {}
            ),
        );
        assert!(
            out.contains(". budget (:: core :: option :: Option :: None)"),
            "{out}"
        );
        assert!(out.contains("Level :: Trace"), "{out}");
        let out = main(
            quote!(crate = "ts"),
            quote!(
                async fn main() {}
            ),
        );
        assert!(out.contains("ts :: Runtime :: builder ()"), "{out}");
        // Attributes other than #[test] stay on the test.
        let out = test(
            quote!(),
            quote!(
                #[should_panic]
                #[ignore]
                async fn t() {}
            ),
        );
        assert!(out.contains("# [should_panic] # [ignore] fn t ()"), "{out}");
    }

    #[test]
    fn start_paused_is_an_error_until_the_builder_has_it() {
        // Without the paused clock (as before it landed), `true` is refused.
        let out = expand_with(
            Kind::Test,
            quote!(start_paused = true),
            quote!(
                async fn t() {}
            ),
            false,
        )
        .to_string();
        let errs = errors(&out);
        assert_eq!(errs.len(), 1, "{out}");
        assert!(errs[0].contains("turnstile has none yet"), "{out}");
        assert!(!out.contains("start_paused (true)"), "{out}");
        // `false` is the default: accepted, and nothing is called.
        let out = test(
            quote!(start_paused = false),
            quote!(
                async fn t() {}
            ),
        );
        assert!(
            errors(&out).is_empty() && !out.contains("start_paused"),
            "{out}"
        );
        // With the paused clock, the builder is asked for it, and only then.
        let out = expand_with(
            Kind::Test,
            quote!(start_paused = true),
            quote!(
                async fn t() {}
            ),
            true,
        )
        .to_string();
        assert!(out.contains(". start_paused (true) . build ()"), "{out}");
        assert!(errors(&out).is_empty(), "{out}");
        // And the builder has it now: the attribute as it ships calls it.
        const _: () = assert!(PAUSED_CLOCK);
        let out = test(
            quote!(start_paused = true),
            quote!(
                async fn t() {}
            ),
        );
        assert!(out.contains(". start_paused (true) . build ()"), "{out}");
        assert!(errors(&out).is_empty(), "{out}");
    }

    #[test]
    fn threads_are_refused_with_what_to_do_instead() {
        let out = main(
            quote!(flavor = "multi_thread"),
            quote!(
                async fn main() {}
            ),
        );
        let errs = errors(&out);
        assert!(errs[0].contains("single-threaded"), "{out}");
        assert!(errs[0].contains("one runtime per thread"), "{out}");
        let out = main(
            quote!(worker_threads = 4),
            quote!(
                async fn main() {}
            ),
        );
        assert!(errors(&out)[0].contains("no worker threads"), "{out}");
        let out = main(
            quote!(flavor = "local"),
            quote!(
                async fn main() {}
            ),
        );
        assert!(errors(&out)[0].contains("unknown flavor `local`"), "{out}");
        // Still expanded beside the error: no second error about a missing `main`.
        assert!(out.contains("fn main ()"), "{out}");
    }

    #[test]
    fn wrong_arguments_are_refused_each_with_its_reason() {
        for (attr, expected) in [
            (quote!(level = Counters), "unknown argument `level`"),
            (
                quote!(probes = Verbose),
                "`probes = Verbose`: the probe levels are",
            ),
            (quote!(probes = 3), "`probes` takes a probe level"),
            (quote!(budget = "8"), "`budget` takes a number"),
            (quote!(budget = -1), "from 0 to 4294967295"),
            (quote!(budget = 5000000000), "from 0 to 4294967295"),
            (quote!(name = loop0), "`name` takes a string literal"),
            (quote!(start_paused = "yes"), "takes `true` or `false`"),
            (quote!(start_paused), "write `start_paused = true`"),
            (quote!(budget(3)), "write `budget = 128`"),
            (
                quote!(probes = Off, probes = Trace),
                "`probes` is given twice",
            ),
            (
                quote!(unhandled_panic = "shutdown_runtime"),
                "`unhandled_panic` is not supported",
            ),
            (quote!(probes Off), "arguments are `key = value`"),
        ] {
            let out = test(
                attr.clone(),
                quote!(
                    async fn t() {}
                ),
            );
            let errs = errors(&out);
            assert_eq!(errs.len(), 1, "{attr}: {out}");
            assert!(errs[0].contains(expected), "{attr}: {}", errs[0]);
        }
        // Two wrong arguments: two errors.
        let out = test(
            quote!(budget = x, probes = y),
            quote!(
                async fn t() {}
            ),
        );
        assert_eq!(errors(&out).len(), 2, "{out}");
    }

    #[test]
    fn functions_it_cannot_run_are_refused() {
        let out = main(
            quote!(),
            quote!(
                fn main() {}
            ),
        );
        assert!(errors(&out)[0].contains("`main` is not async"), "{out}");
        let out = main(
            quote!(),
            quote!(
                async fn main(n: u32) {}
            ),
        );
        assert!(
            errors(&out)[0].contains("`main` takes no arguments"),
            "{out}"
        );
        let out = test(
            quote!(),
            quote!(
                async fn t<T>() {}
            ),
        );
        assert!(errors(&out)[0].contains("cannot be generic"), "{out}");
        // The function is kept, inside a plain one that rustc accepts as a `main`.
        let kept = "fn t () { # [allow (dead_code , unused)] async fn t < T > () { } }";
        assert!(out.contains(kept), "{out}");
        let out = test(
            quote!(),
            quote!(
                struct S;
            ),
        );
        assert!(errors(&out)[0].contains("goes on an `async fn`"), "{out}");
    }

    #[test]
    fn a_second_test_attribute_is_refused() {
        for attr in [
            quote!(#[test]),
            quote!(#[::core::prelude::v1::test]),
            quote!(#[std::prelude::rust_2021::test]),
            quote!(#[turnstile::test]),
        ] {
            let out = test(quote!(), quote!(#attr async fn t() {}));
            let errs = errors(&out);
            assert_eq!(errs.len(), 1, "{out}");
            assert!(errs[0].contains("remove this attribute"), "{out}");
            // One `#[test]` in the expansion, the one the attribute adds.
            assert_eq!(out.matches("# [").count(), 1, "{out}");
        }
        // `#[turnstile::main]` leaves `#[test]` alone: it is not a test attribute.
        let out = main(
            quote!(),
            quote!(
                #[test]
                async fn t() {}
            ),
        );
        assert!(errors(&out).is_empty(), "{out}");
    }
}
