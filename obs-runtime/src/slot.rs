//! The one `unsafe` pattern of the hot path, audited once: a slot holding a
//! `&'static T` that is published once (or replaced) and read with a single
//! acquire load, no lock and no reference count.
//!
//! Values are leaked when published and never freed, so a reader may keep the
//! reference forever. Callers bound how often they publish (once per site and
//! agent, per label set, per pricing-table change…), which bounds the leak.

use std::sync::atomic::{AtomicPtr, Ordering};

/// An `Option<&'static T>` that threads publish into.
pub(crate) struct Slot<T: 'static>(AtomicPtr<T>);

impl<T: 'static> Slot<T> {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        Slot(AtomicPtr::new(std::ptr::null_mut()))
    }

    /// The published value, if any.
    #[inline(always)]
    pub(crate) fn get(&self) -> Option<&'static T> {
        // SAFETY: the only non-null pointers ever stored come from `Box::leak`
        // in `publish` / `get_or_publish` and are never freed, so they are valid
        // for `'static`; the acquire load pairs with the release of the store,
        // so the value is fully initialised when seen.
        unsafe { self.0.load(Ordering::Acquire).as_ref() }
    }

    /// Publishes `value` unless a value is already there; returns whichever
    /// won (a losing `value` is dropped, never published).
    pub(crate) fn get_or_publish(&self, value: T) -> &'static T {
        if let Some(v) = self.get() {
            return v;
        }
        let fresh: &'static mut T = Box::leak(Box::new(value));
        let ptr: *mut T = fresh;
        match self.0.compare_exchange(std::ptr::null_mut(), ptr, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: `ptr` was just leaked and is now published: never freed.
            Ok(_) => unsafe { &*ptr },
            Err(winner) => {
                // SAFETY: `ptr` came from `Box::leak` above and was not
                // published (the exchange failed), so this is its only owner;
                // `winner` is non-null (the exchange expected null) and was
                // published by another thread, so it is leaked and `'static`.
                unsafe {
                    drop(Box::from_raw(ptr));
                    &*winner
                }
            }
        }
    }

    /// Publishes `value` in place of whatever was there; the old value stays
    /// allocated (readers may still hold it).
    pub(crate) fn publish(&self, value: T) -> &'static T {
        let fresh: &'static T = Box::leak(Box::new(value));
        self.0.store(fresh as *const T as *mut T, Ordering::Release);
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::Slot;

    #[test]
    fn first_publication_wins_and_replacement_keeps_old_readers_valid() {
        let s: Slot<u32> = Slot::new();
        assert_eq!(s.get(), None);
        assert_eq!(*s.get_or_publish(1), 1);
        assert_eq!(*s.get_or_publish(2), 1);
        let old = s.get().unwrap();
        s.publish(3);
        assert_eq!((*old, s.get().copied()), (1, Some(3)));
    }
}
