//! The articles whose claims the experiments test, cited by title.
//!
//! Four public articles about Python's asyncio raise the lab's questions. A report never
//! sends its reader elsewhere to learn what is claimed: each states the claim with the
//! article's own numbers, then cites the article with [`Article::cite`].

use std::fmt;

/// A public article, as a reader would look it up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Article {
    /// Its title, as published.
    pub title: &'static str,
    /// The title in English, if it was published in another language.
    pub english: Option<&'static str>,
    /// What kind of text it is and where it appeared, in a few words.
    pub kind: &'static str,
}

impl Article {
    /// How a report cites it: the kind, then the title in quotes (with its English
    /// translation if it has one).
    ///
    /// ```
    /// use turnstile_lab::sources::GATHER_OR_BATCH;
    /// assert!(GATHER_OR_BATCH.cite().contains("\"What is the maximum number"));
    /// ```
    pub fn cite(&self) -> String {
        match self.english {
            Some(english) => format!("{} \"{}\" (\"{english}\")", self.kind, self.title),
            None => format!("{} \"{}\"", self.kind, self.title),
        }
    }
}

impl fmt::Display for Article {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cite())
    }
}

/// A blog post (2021) timing 10,000 and 100,000 coroutines, each sleeping 3 x 100 ms,
/// gathered at once or in 5 batches; it also sees network calls time out past about
/// 1,000 at once, and notes that Postgres refuses more than 100 connections.
pub const GATHER_OR_BATCH: Article = Article {
    title: "What is the maximum number of coroutines you should run concurrently?",
    english: None,
    kind: "the asyncio blog post",
};

/// A long Chinese survey of asyncio's bottlenecks: blocking calls and loop lag (section
/// 1.1), a table of switch costs (2.1), coroutine memory (2.2), semaphores (6.1) and
/// uvloop's figures against asyncio (10.1).
pub const BOTTLENECKS: Article = Article {
    title: "Python异步编程中的性能瓶颈深度解析",
    english: Some("Performance bottlenecks in Python async programming, in depth"),
    kind: "the asyncio survey",
};

/// A question and its answers (2019): does every `await` switch context? An answer
/// subclasses the event loop to print in `_run_once`; another reports that a semaphore
/// cutting concurrency from 1,000 to 50 doubled throughput.
pub const AWAIT_CHAINS: Article = Article {
    title: "How can I prevent context switching when calling an async function?",
    english: None,
    kind: "the asyncio question on await chains and `_run_once`",
};

/// An essay: async is cooperative, so CPU-bound work in one task stalls all the others;
/// it cites a latency cliff once CPU work passes 20 % and argues for async for waiting,
/// threads for computing.
pub const NOT_CONCURRENT: Article = Article {
    title: "Your Async Code Isn't Concurrent",
    english: None,
    kind: "the essay",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_citation_names_the_title_and_its_translation() {
        assert_eq!(
            NOT_CONCURRENT.cite(),
            "the essay \"Your Async Code Isn't Concurrent\""
        );
        let survey = BOTTLENECKS.cite();
        assert!(survey.contains(BOTTLENECKS.title) && survey.contains("in depth"));
    }
}
