//! A column of plain values that is either owned or a view into bytes someone else keeps
//! alive: a cache file mapped into memory. A store read from the cache then uses the file's
//! pages where they lie, so reopening a big trace neither reads nor zeroes a fresh copy of
//! it, and the page cache holds it once for every process that opens it.

use bytemuck::Pod;
use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

/// Bytes that neither move nor change while any reference to them is alive.
///
/// # Safety
///
/// `bytes` returns the same slice, with the same contents, for as long as the value lives:
/// [`Column`] keeps views into it past the call.
#[allow(unsafe_code)]
pub unsafe trait StableBytes: Send + Sync {
    fn bytes(&self) -> &[u8];
}

// SAFETY: a `Vec` that is never touched again (it is behind the `Arc` of `SharedBytes`)
// keeps its buffer where it is.
#[allow(unsafe_code)]
unsafe impl StableBytes for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// Bytes shared by the columns that view them.
pub type SharedBytes = Arc<dyn StableBytes>;

/// Values of one column: a `Vec` of its own, or a view into shared bytes.
pub struct Column<T: 'static> {
    repr: Repr<T>,
}

enum Repr<T: 'static> {
    Owned(Vec<T>),
    Shared {
        /// Points into `_owner`'s bytes, which outlive it (the `Arc` is held beside).
        values: &'static [T],
        _owner: SharedBytes,
    },
}

impl<T: Pod> Column<T> {
    /// The values that `owner`'s bytes hold at `range`, viewed in place. They are copied
    /// when not aligned for `T`; `None` when the range is outside the bytes or not a whole
    /// number of values.
    pub fn shared(owner: SharedBytes, range: Range<usize>) -> Option<Column<T>> {
        let bytes = owner.bytes().get(range)?;
        if bytes.len() % size_of::<T>() != 0 {
            return None;
        }
        let Ok(values) = bytemuck::try_cast_slice::<u8, T>(bytes) else {
            return Some(Column::from(values_of(bytes)));
        };
        // SAFETY: `values` lies in `owner`'s bytes, which `StableBytes` promises neither move
        // nor change while `owner` lives, and the column holds `owner` as long as `values`;
        // the `'static` never escapes: `Deref` lends it for the column's own lifetime.
        #[allow(unsafe_code)]
        let values: &'static [T] =
            unsafe { std::slice::from_raw_parts(values.as_ptr(), values.len()) };
        Some(Column {
            repr: Repr::Shared {
                values,
                _owner: owner,
            },
        })
    }

    /// The values to change: a shared column is copied into a `Vec` of its own first.
    pub fn make_mut(&mut self) -> &mut Vec<T> {
        if let Repr::Shared { values, .. } = self.repr {
            self.repr = Repr::Owned(values.to_vec());
        }
        match &mut self.repr {
            Repr::Owned(values) => values,
            Repr::Shared { .. } => unreachable!("made owned above"),
        }
    }

    /// Bytes viewed in someone else's memory (0 when owned).
    pub fn shared_bytes(&self) -> usize {
        match &self.repr {
            Repr::Owned(_) => 0,
            Repr::Shared { values, .. } => size_of_val(*values),
        }
    }

    /// Bytes of its own (0 when shared).
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Owned(values) => size_of_val(&values[..]),
            Repr::Shared { .. } => 0,
        }
    }
}

/// Values of `T` read out of bytes of any alignment (a whole number of values).
fn values_of<T: Pod>(bytes: &[u8]) -> Vec<T> {
    let mut values = vec![T::zeroed(); bytes.len() / size_of::<T>()];
    let out = bytemuck::cast_slice_mut::<T, u8>(&mut values);
    let len = out.len();
    out.copy_from_slice(&bytes[..len]);
    values
}

impl<T> Deref for Column<T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        match &self.repr {
            Repr::Owned(values) => values,
            Repr::Shared { values, .. } => values,
        }
    }
}

impl<'a, T> IntoIterator for &'a Column<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T> Default for Column<T> {
    fn default() -> Self {
        Column {
            repr: Repr::Owned(Vec::new()),
        }
    }
}

impl<T> From<Vec<T>> for Column<T> {
    fn from(values: Vec<T>) -> Self {
        Column {
            repr: Repr::Owned(values),
        }
    }
}

impl<T: Clone> Clone for Column<T> {
    fn clone(&self) -> Self {
        match &self.repr {
            Repr::Owned(values) => Column::from(values.clone()),
            Repr::Shared { values, _owner } => Column {
                repr: Repr::Shared {
                    values,
                    _owner: Arc::clone(_owner),
                },
            },
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Column<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq> PartialEq for Column<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

/// A column as handed to [`crate::EventStore::from_columns`]: borrowed from a store being
/// written, or a column of its own (read back, owned or shared) that the store takes over.
pub enum ColumnIn<'a, T: 'static> {
    Borrowed(&'a [T]),
    Owned(Column<T>),
}

impl<T: Pod> ColumnIn<'_, T> {
    /// The column, copied only when borrowed.
    pub fn into_column(self) -> Column<T> {
        match self {
            ColumnIn::Borrowed(values) => Column::from(values.to_vec()),
            ColumnIn::Owned(column) => column,
        }
    }
}

impl<T> Deref for ColumnIn<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            ColumnIn::Borrowed(values) => values,
            ColumnIn::Owned(column) => column,
        }
    }
}

impl<'a, T> From<&'a [T]> for ColumnIn<'a, T> {
    fn from(values: &'a [T]) -> Self {
        ColumnIn::Borrowed(values)
    }
}

impl<T> From<Vec<T>> for ColumnIn<'_, T> {
    fn from(values: Vec<T>) -> Self {
        ColumnIn::Owned(Column::from(values))
    }
}

impl<T> From<Column<T>> for ColumnIn<'_, T> {
    fn from(column: Column<T>) -> Self {
        ColumnIn::Owned(column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_column_views_its_bytes_in_place_until_changed() {
        let words: Vec<u32> = (0..100).collect();
        let bytes: Vec<u8> = bytemuck::cast_slice(&words).to_vec();
        let start = bytes.as_ptr() as usize;
        let owner: SharedBytes = Arc::new(bytes);
        let mut column = Column::<u32>::shared(Arc::clone(&owner), 40..80).unwrap();
        assert_eq!(&column[..], &words[10..20]);
        assert_eq!(column.as_ptr() as usize, start + 40, "viewed, not copied");
        assert_eq!((column.shared_bytes(), column.heap_bytes()), (40, 0));
        drop(owner);
        assert_eq!(column.clone(), column, "the column keeps its bytes alive");
        column.make_mut().push(7);
        assert_eq!(column.len(), 11);
        assert_eq!((column.shared_bytes(), column[10]), (0, 7));
    }

    #[test]
    fn misaligned_bytes_are_copied_and_bad_ranges_refused() {
        let owner: SharedBytes = Arc::new((0u8..64).collect::<Vec<u8>>());
        let odd = Column::<u32>::shared(Arc::clone(&owner), 1..9).unwrap();
        assert_eq!(
            &odd[..],
            &[
                u32::from_ne_bytes([1, 2, 3, 4]),
                u32::from_ne_bytes([5, 6, 7, 8])
            ]
        );
        assert_eq!(odd.shared_bytes(), 0);
        assert!(Column::<u32>::shared(Arc::clone(&owner), 0..6).is_none());
        assert!(Column::<u32>::shared(owner, 60..68).is_none());
    }
}
