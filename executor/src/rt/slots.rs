//! The runtime's table of live tasks (what the rest of the code calls the slab): slot
//! `i` owns the task whose header says `index == i`, and freed slots are reused, most
//! recently freed first.
//!
//! A `Vec<Option<Arc<dyn LocalTask>>>` with a free list, rather than the `slab` crate:
//! `Option<Arc<_>>` needs no tag (the pointer cannot be null), so a slot is two words
//! where a slab entry, which keeps its free list inside vacant entries, is three. The
//! free list costs four bytes per *free* slot instead. Task ids are never reused; slot
//! indexes are, which is why a handle or waker checks the id as well.

use std::sync::Arc;

use crate::raw::LocalTask;

/// Live tasks by slot.
#[derive(Default)]
pub(crate) struct TaskSlots {
    slots: Vec<Option<Arc<dyn LocalTask>>>,
    /// Free slot indexes; the last is reused first.
    free: Vec<u32>,
    /// Occupied slots.
    len: usize,
}

impl TaskSlots {
    /// The slot the next `insert` will use.
    #[inline]
    pub(crate) fn next_key(&self) -> usize {
        self.free
            .last()
            .map_or(self.slots.len(), |&index| index as usize)
    }

    /// Puts a task in the slot `next_key` named, and returns that slot.
    #[inline]
    pub(crate) fn insert(&mut self, task: Arc<dyn LocalTask>) -> usize {
        self.len += 1;
        match self.free.pop() {
            Some(index) => {
                let slot = &mut self.slots[index as usize];
                debug_assert!(slot.is_none(), "a free slot was occupied");
                *slot = Some(task);
                index as usize
            }
            None => {
                self.slots.push(Some(task));
                self.slots.len() - 1
            }
        }
    }

    /// The task in slot `index`, if there is one.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&Arc<dyn LocalTask>> {
        self.slots.get(index)?.as_ref()
    }

    /// Takes the task out of slot `index`, freeing the slot.
    ///
    /// # Panics
    /// If the slot is empty: the runtime releases each task exactly once.
    #[inline]
    pub(crate) fn remove(&mut self, index: usize) -> Arc<dyn LocalTask> {
        let task = self.slots[index]
            .take()
            .expect("turnstile: released a task slot twice");
        self.free
            .push(u32::try_from(index).expect("slot indexes fit in u32"));
        self.len -= 1;
        task
    }

    /// Every live task with its slot, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &Arc<dyn LocalTask>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| Some((index, slot.as_ref()?)))
    }

    /// Takes every task out, leaving the table empty.
    pub(crate) fn drain(&mut self) -> Vec<Arc<dyn LocalTask>> {
        self.free.clear();
        self.len = 0;
        self.slots.drain(..).flatten().collect()
    }

    /// Live tasks.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}
