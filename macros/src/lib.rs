//! The procedural macros of turnstile. Use them through the `turnstile` crate, whose
//! documentation has the examples (the code they write names `::turnstile::...`, and
//! this crate cannot depend on turnstile to run them):
//!
//! - `#[turnstile::main]`: `async fn main` as a sync `main` that builds a runtime and
//!   `block_on`s the body, as `#[tokio::main]` does.
//! - `#[turnstile::test]`: the same for a test, as `#[tokio::test]` does.
//! - `#[turnstile::instrument]` (and `turnstile::instrument_block!`): every `.await` of an
//!   `async fn` an await site of its own, and a frame of the task's async stack.
//!
//! # `#[turnstile::main]` and `#[turnstile::test]`
//!
//! Both take the same arguments, `key = value` separated by commas, each a call on
//! `turnstile::Runtime::builder()`:
//!
//! - `probes = Off|Counters|Timing|Trace`: `Builder::probes` (default `Timing`).
//! - `budget = N`: `Builder::budget(Some(N))`; `budget = None`: no budget.
//! - `name = "..."`: `Builder::name`.
//! - `flavor = "current_thread"`: accepted and changes nothing, as turnstile has only
//!   that flavor; `flavor = "multi_thread"` and `worker_threads = N` are compile errors
//!   that say turnstile is single-threaded and what to do instead.
//! - `start_paused = true`: `Builder::start_paused(true)`, called only when the argument
//!   is given: the runtime's clock starts paused (`turnstile::time::pause`).
//!   `start_paused = false` is the default, accepted, and calls nothing.
//! - `crate = "path"`: where turnstile is, for a crate that renames it.
//!
//! Anything else, and a value of the wrong type, is a compile error spanned at the
//! argument. The function must be an `async fn` without parameters or generics; it may
//! return a value (`-> Result<(), E>`). It becomes a sync function of the same
//! signature (attributes kept) with the `async fn` nested inside:
//!
//! ```text
//! fn main() -> R {
//!     async fn main() -> R { body }
//!     let runtime = ::turnstile::Runtime::builder().build().expect("..");
//!     runtime.block_on(main())
//! }
//! ```
//!
//! `#[turnstile::test]` adds `#[::core::prelude::v1::test]` to it, and keeps the other
//! attributes (`#[should_panic]`, `#[ignore]`); a `#[test]` written as well is a compile
//! error, as the function would be a test twice.
//!
//! # `#[turnstile::instrument]`
//!
//! Each `.await` in the body becomes
//!
//! ```text
//! ::turnstile::probes::Instrumented::new(
//!     ::core::future::IntoFuture::into_future(expr),
//!     { static FRAME: Frame = Frame::new("name", file!(), line!(), column!()); &FRAME },
//! ).await
//! ```
//!
//! with `file!`, `line!` and `column!` spanned at the `await` keyword, so they name the
//! await's own line. Awaits inside nested `async` blocks and async closures are
//! rewritten too (named after the enclosing function: they are its code, usually run
//! inside it, as `join(async { a.await }, ..)`); nested items (`fn`, `impl`, `mod`)
//! are functions of their own and are left alone; awaits inside macro calls
//! (`select!`, `join!`) are tokens the attribute cannot see, and are left alone.

mod entry;

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, ExprAwait, ImplItem, Item, LitStr, Token, Type};

/// Makes each `.await` of an `async fn` (or of every `async fn` of an `impl` block) an
/// await site named after the function, and a frame of the async stack of the task
/// that waits there. `#[turnstile::instrument(name = "label")]` names the frames
/// `label` instead of the function's name; in an `impl` block they are named
/// `Type::method`. See `turnstile::instrument` for the examples.
#[proc_macro_attribute]
pub fn instrument(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_attribute(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Runs an `async fn` on a turnstile runtime: `#[turnstile::main] async fn main()`
/// becomes a sync `main` that builds a runtime (with the arguments' settings) and
/// `block_on`s the body. See the crate's documentation for the arguments, and
/// `turnstile::main` for the examples.
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Main, attr.into(), item.into()).into()
}

/// `#[turnstile::main]` for a test: the sync function it writes is a `#[test]`. Takes
/// the same arguments. See `turnstile::test` for the examples.
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Test, attr.into(), item.into()).into()
}

/// `instrument_block!("name", async { .. })`: the `.await`s of an async block (or an
/// async closure) as instrumented awaits named `name`, for the async code that is not
/// an `async fn`. See `turnstile::instrument_block` for an example.
#[proc_macro]
pub fn instrument_block(input: TokenStream) -> TokenStream {
    expand_block(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The attribute's arguments: nothing, or `name = "label"`.
struct Args {
    name: Option<LitStr>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Ok(Args { name: None });
        }
        let key: syn::Ident = input.parse()?;
        if key != "name" {
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown argument `{key}`: #[turnstile::instrument] takes nothing, \
                     or `name = \"label\"`"
                ),
            ));
        }
        input.parse::<Token![=]>()?;
        let name: LitStr = input.parse()?;
        if !input.is_empty() {
            return Err(input.error(
                "unexpected tokens after `name = \"...\"`: #[turnstile::instrument] takes \
                 nothing, or `name = \"label\"`",
            ));
        }
        Ok(Args { name: Some(name) })
    }
}

/// The attribute on an item.
fn expand_attribute(attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let args: Args = syn::parse2(attr)?;
    let mut item: Item = syn::parse2(item)?;
    match &mut item {
        Item::Fn(f) => {
            if f.sig.asyncness.is_none() {
                return Err(not_async(&f.sig));
            }
            let name = args
                .name
                .map_or_else(|| f.sig.ident.to_string(), |n| n.value());
            rewrite_block(&mut f.block, &name);
        }
        Item::Impl(imp) => {
            if let Some(name) = args.name {
                return Err(syn::Error::new(
                    name.span(),
                    "`name = ...` names one function: on an impl block, each async method \
                     is named `Type::method`",
                ));
            }
            let ty = type_name(&imp.self_ty);
            let mut found = false;
            for member in &mut imp.items {
                if let ImplItem::Fn(f) = member {
                    if f.sig.asyncness.is_some() {
                        rewrite_block(&mut f.block, &format!("{ty}::{}", f.sig.ident));
                        found = true;
                    }
                }
            }
            if !found {
                return Err(syn::Error::new(
                    imp.impl_token.span,
                    "#[turnstile::instrument] on an impl block instruments its `async fn`s, \
                     and this block has none",
                ));
            }
        }
        other => {
            return Err(syn::Error::new(
                item_span(other),
                "#[turnstile::instrument] goes on an `async fn` or on an impl block of \
                 them (for an async block, use `turnstile::instrument_block!`)",
            ))
        }
    }
    Ok(item.into_token_stream())
}

/// The error for a function that is not `async`.
fn not_async(sig: &syn::Signature) -> syn::Error {
    let span = sig
        .fn_token
        .span
        .join(sig.ident.span())
        .unwrap_or(sig.ident.span());
    syn::Error::new(
        span,
        format!(
            "#[turnstile::instrument] rewrites the `.await`s of an `async fn`, and `{}` is \
             not async: make it `async fn`, or for an async block inside it use \
             `turnstile::instrument_block!`",
            sig.ident
        ),
    )
}

/// A span for an item the attribute does not take: its first token's.
fn item_span(item: &Item) -> Span {
    item.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

/// `Db` for `Db`, `Db<T>` or `crate::db::Db<T>`; the type as written otherwise.
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(p) => match p.path.segments.last() {
            Some(last) => last.ident.to_string(),
            None => p.to_token_stream().to_string(),
        },
        other => other.to_token_stream().to_string().replace(' ', ""),
    }
}

/// `instrument_block!("name", async { .. })`.
fn expand_block(input: TokenStream2) -> syn::Result<TokenStream2> {
    struct BlockArgs {
        name: LitStr,
        body: Expr,
    }
    impl Parse for BlockArgs {
        fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
            let name = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "instrument_block! takes a name and an async block: \
                     instrument_block!(\"name\", async { .. })",
                )
            })?;
            input.parse::<Token![,]>()?;
            let body = input.parse()?;
            input.parse::<Option<Token![,]>>()?;
            Ok(BlockArgs { name, body })
        }
    }
    let BlockArgs { name, mut body } = syn::parse2(input)?;
    let is_async = match &body {
        Expr::Async(_) => true,
        Expr::Closure(c) => c.asyncness.is_some(),
        _ => false,
    };
    if !is_async {
        return Err(syn::Error::new(
            body.span(),
            "instrument_block! takes an `async` block or an async closure",
        ));
    }
    Rewrite {
        name: &name.value(),
    }
    .visit_expr_mut(&mut body);
    Ok(quote!(#body))
}

/// Rewrites the awaits of a function body.
fn rewrite_block(block: &mut Block, name: &str) {
    Rewrite { name }.visit_block_mut(block);
}

/// The visitor that rewrites each `.await` it reaches.
struct Rewrite<'a> {
    /// What the frames are named.
    name: &'a str,
}

impl VisitMut for Rewrite<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        // Inner awaits first: `a.await.b().await` rewrites both.
        visit_mut::visit_expr_mut(self, expr);
        if let Expr::Await(ExprAwait {
            attrs,
            base,
            dot_token,
            await_token,
        }) = expr
        {
            let span = await_token.span;
            let name = self.name;
            let frame = quote_spanned! {span=>
                {
                    static __TURNSTILE_FRAME: ::turnstile::probes::Frame =
                        ::turnstile::probes::Frame::new(
                            #name,
                            ::core::file!(),
                            ::core::line!(),
                            ::core::column!(),
                        );
                    &__TURNSTILE_FRAME
                }
            };
            let wrapped: Expr = syn::parse_quote_spanned! {span=>
                ::turnstile::probes::Instrumented::new(
                    ::core::future::IntoFuture::into_future(#base),
                    #frame,
                )
            };
            *expr = Expr::Await(ExprAwait {
                attrs: std::mem::take(attrs),
                base: Box::new(wrapped),
                dot_token: *dot_token,
                await_token: *await_token,
            });
        }
    }

    /// A nested item is a function of its own: instrument it on its own.
    fn visit_item_mut(&mut self, _: &mut Item) {}
}

#[cfg(test)]
mod tests {
    // Not `super::*`: it would bring the `test` attribute of this crate in.
    use super::{expand_attribute, expand_block, TokenStream2};
    use quote::quote;

    fn error(attr: TokenStream2, item: TokenStream2) -> String {
        expand_attribute(attr, item).unwrap_err().to_string()
    }

    #[test]
    fn a_plain_fn_is_refused_with_a_clear_message() {
        let msg = error(
            quote!(),
            quote!(
                fn not_async() {}
            ),
        );
        assert!(msg.contains("`not_async` is not async"), "{msg}");
    }

    #[test]
    fn other_items_and_unknown_arguments_are_refused() {
        let msg = error(
            quote!(),
            quote!(
                struct S;
            ),
        );
        assert!(msg.contains("goes on an `async fn`"), "{msg}");
        let msg = error(
            quote!(level = "x"),
            quote!(
                async fn f() {}
            ),
        );
        assert!(msg.contains("unknown argument `level`"), "{msg}");
        let msg = error(quote!(), quote!(impl S { fn f() {} }));
        assert!(msg.contains("this block has none"), "{msg}");
        let msg = expand_block(quote!("x", { 1 })).unwrap_err().to_string();
        assert!(msg.contains("takes an `async` block"), "{msg}");
    }

    #[test]
    fn every_await_is_rewritten_but_nested_items_are_not() {
        let out = expand_attribute(
            quote!(),
            quote!(
                async fn f(x: X) {
                    x.a().await.b().await;
                    let _ = async { y.await };
                    fn inner() {
                        async { z.await };
                    }
                }
            ),
        )
        .unwrap()
        .to_string();
        assert_eq!(out.matches("Instrumented :: new").count(), 3, "{out}");
        assert_eq!(out.matches("\"f\"").count(), 3, "{out}");
        assert!(out.contains("async { z . await }"), "{out}");
    }

    #[test]
    fn methods_are_named_type_colon_colon_method() {
        let out = expand_attribute(
            quote!(),
            quote!(
                impl<T> Db<T> {
                    async fn load(&self) {
                        self.read().await
                    }
                    fn plain(&self) {}
                }
            ),
        )
        .unwrap()
        .to_string();
        assert!(out.contains("\"Db::load\""), "{out}");
        let out = expand_attribute(
            quote!(name = "custom"),
            quote!(
                async fn f() {
                    g().await
                }
            ),
        )
        .unwrap()
        .to_string();
        assert!(out.contains("\"custom\""), "{out}");
    }
}
