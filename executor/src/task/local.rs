//! Task-local storage: a value that belongs to one task (or one future), visible to the
//! code it runs and to no other task, as tokio's `task_local!` gives it.
//!
//! A [`LocalKey`] wraps a thread-local slot. [`LocalKey::scope`] wraps a future: each
//! time it is polled, its value is swapped into the slot, and swapped out again when the
//! poll returns (or unwinds). Tasks on one loop thread take turns, so each sees only its
//! own value; nothing about the loop is involved.

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread::LocalKey as ThreadKey;

use pin_project_lite::pin_project;

/// Declares task-local keys: `static NAME: Type;`, each a [`LocalKey`].
///
/// ```
/// turnstile::task_local! {
///     static REQUEST_ID: u64;
///     pub static USER: String;
/// }
///
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(REQUEST_ID.scope(7, async {
///     assert_eq!(REQUEST_ID.get(), 7);
///     assert!(USER.try_with(|u| u.clone()).is_err()); // not set in this scope
/// }));
/// # Ok::<(), std::io::Error>(())
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
    };
}

/// The body of [`task_local!`] for one key (not public API).
#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static SLOT: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey::__new(&SLOT)
        };
    };
}

/// A key to task-local values of type `T`, declared with [`task_local!`](crate::task_local).
pub struct LocalKey<T: 'static> {
    slot: &'static ThreadKey<RefCell<Option<T>>>,
}

impl<T: 'static> LocalKey<T> {
    /// Used by [`task_local!`](crate::task_local); not public API.
    #[doc(hidden)]
    pub const fn __new(slot: &'static ThreadKey<RefCell<Option<T>>>) -> Self {
        LocalKey { slot }
    }

    /// Runs `future` with the key set to `value` in every one of its polls (and while it
    /// is dropped). Other tasks do not see the value, even on the same thread.
    ///
    /// ```
    /// turnstile::task_local! { static DEPTH: u32; }
    /// let rt = turnstile::Runtime::new()?;
    /// let seen = rt.block_on(DEPTH.scope(1, async {
    ///     turnstile::yield_now().await; // other tasks may run here: the value stays ours
    ///     DEPTH.get()
    /// }));
    /// assert_eq!(seen, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            value: Some(value),
            future: Some(future),
        }
    }

    /// Runs `f` with the key set to `value`, synchronously.
    ///
    /// ```
    /// turnstile::task_local! { static NAME: &'static str; }
    /// assert_eq!(NAME.sync_scope("a", || NAME.get()), "a");
    /// assert!(NAME.try_with(|_| ()).is_err());
    /// ```
    pub fn sync_scope<R>(&'static self, value: T, f: impl FnOnce() -> R) -> R {
        let mut value = Some(value);
        let _swapped = Swapped::enter(self, &mut value);
        f()
    }

    /// Runs `f` with a reference to the task's value.
    ///
    /// # Panics
    /// If the key is not set (outside a [`LocalKey::scope`]), or is being replaced by a
    /// scope that `f` itself entered.
    ///
    /// ```
    /// turnstile::task_local! { static GREETING: String; }
    /// let len = GREETING.sync_scope("hello".to_string(), || GREETING.with(|g| g.len()));
    /// assert_eq!(len, 5);
    /// ```
    #[track_caller]
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        match self.try_with(f) {
            Ok(out) => out,
            Err(e) => panic!("{e}"),
        }
    }

    /// Runs `f` with a reference to the task's value, or returns an error if the key is
    /// not set here.
    ///
    /// ```
    /// turnstile::task_local! { static N: u8; }
    /// assert!(N.try_with(|n| *n).is_err());
    /// assert_eq!(N.sync_scope(3, || N.try_with(|n| *n)), Ok(3));
    /// ```
    pub fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Result<R, AccessError> {
        self.slot
            .try_with(|slot| {
                let value = slot.try_borrow().map_err(|_| AccessError(()))?;
                value.as_ref().map(f).ok_or(AccessError(()))
            })
            .map_err(|_| AccessError(()))?
    }
}

impl<T: Clone + 'static> LocalKey<T> {
    /// A clone of the task's value, or an error if the key is not set here: the
    /// [`LocalKey::get`] that does not panic, as tokio's `try_get`.
    ///
    /// ```
    /// turnstile::task_local! { static ID: u64; }
    /// assert!(ID.try_get().is_err());
    /// assert_eq!(ID.sync_scope(9, || ID.try_get()), Ok(9));
    /// ```
    pub fn try_get(&'static self) -> Result<T, AccessError> {
        self.try_with(T::clone)
    }

    /// A clone of the task's value.
    ///
    /// # Panics
    /// If the key is not set here.
    ///
    /// ```
    /// turnstile::task_local! { static ID: u64; }
    /// assert_eq!(ID.sync_scope(9, || ID.get()), 9);
    /// ```
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalKey { .. }")
    }
}

/// Swaps a scope's value into the key's slot, and back out when dropped (unwinding
/// included), so the slot holds whatever it held before.
struct Swapped<'a, T: 'static> {
    key: &'static LocalKey<T>,
    value: &'a mut Option<T>,
}

impl<'a, T: 'static> Swapped<'a, T> {
    fn enter(key: &'static LocalKey<T>, value: &'a mut Option<T>) -> Self {
        key.slot.with(|slot| {
            let mut slot = slot.try_borrow_mut().unwrap_or_else(|_| {
                panic!("a task_local scope was entered inside LocalKey::with on the same key")
            });
            std::mem::swap(&mut *slot, value);
        });
        Swapped { key, value }
    }
}

impl<T: 'static> Drop for Swapped<'_, T> {
    fn drop(&mut self) {
        // `try_with`: the thread may be tearing down its thread-locals.
        let _ = self.key.slot.try_with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut() {
                std::mem::swap(&mut *slot, self.value);
            }
        });
    }
}

pin_project! {
    /// The future of [`LocalKey::scope`]: `F`, with the key set to its value in every
    /// poll.
    pub struct TaskLocalFuture<T: 'static, F> {
        key: &'static LocalKey<T>,
        value: Option<T>,
        #[pin]
        future: Option<F>,
    }

    impl<T: 'static, F> PinnedDrop for TaskLocalFuture<T, F> {
        fn drop(this: Pin<&mut Self>) {
            // The future is dropped inside its scope, so its destructors see the value.
            let mut this = this.project();
            if this.future.is_some() {
                let _swapped = Swapped::enter(this.key, this.value);
                this.future.set(None);
            }
        }
    }
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Takes the value out of the scope, as tokio's `take_value`: `Some` the first time,
    /// `None` once taken. The future may still be polled (or dropped) afterwards, and
    /// then runs with the key not set.
    ///
    /// ```
    /// use std::pin::pin;
    /// turnstile::task_local! { static KEY: u32; }
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut scoped = pin!(KEY.scope(7, async { KEY.get() }));
    ///     assert_eq!((&mut scoped).await, 7);
    ///     assert_eq!(scoped.as_mut().take_value(), Some(7)); // still there once done
    ///     assert_eq!(scoped.as_mut().take_value(), None);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        self.project().value.take()
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let _swapped = Swapped::enter(this.key, this.value);
        let future = this
            .future
            .as_mut()
            .as_pin_mut()
            .expect("a task_local scope's future was polled after it completed");
        let out = future.poll(cx);
        if out.is_ready() {
            this.future.set(None);
        }
        out
    }
}

impl<T: 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("done", &self.future.is_none())
            .finish()
    }
}

/// The error of [`LocalKey::try_with`]: the key has no value here.
///
/// ```
/// turnstile::task_local! { static K: u8; }
/// let err = K.try_with(|_| ()).unwrap_err();
/// assert!(err.to_string().contains("not set"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AccessError(());

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessError")
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "task-local value not set: access it inside LocalKey::scope or sync_scope \
             (each task sees only the values of the scopes it runs in)",
        )
    }
}

impl Error for AccessError {}
