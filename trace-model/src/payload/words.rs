//! How one payload field is laid out in the word arena, and the macro that turns the table
//! of payloads in `payload.rs` into the enum, its encoder, decoder and checker.

use super::TaskState;
use crate::StrId;

/// A payload field's words: how many, how they are written and read back, and whether
/// the word is a string id (checked against the interner when an arena comes from outside).
pub(crate) trait Word: Copy {
    const WORDS: usize;
    const STRING: bool = false;
    fn put(self, out: &mut [u32]);
    fn get(words: &[u32]) -> Self;
}

impl Word for StrId {
    const WORDS: usize = 1;
    const STRING: bool = true;
    #[inline]
    fn put(self, out: &mut [u32]) {
        out[0] = self.0;
    }
    #[inline]
    fn get(w: &[u32]) -> Self {
        StrId(w[0])
    }
}

/// Integers of up to 32 bits: one word, truncated back on reading.
macro_rules! one_word {
    ($($ty:ty),*) => {$(
        impl Word for $ty {
            const WORDS: usize = 1;
            #[inline]
            fn put(self, out: &mut [u32]) {
                out[0] = self as u32;
            }
            #[inline]
            fn get(w: &[u32]) -> Self {
                w[0] as $ty
            }
        }
    )*};
}

one_word!(u32, i32, u16, u8);

/// Bit 0, so that a flag can share its word with a field shifted above it.
impl Word for bool {
    const WORDS: usize = 1;
    #[inline]
    fn put(self, out: &mut [u32]) {
        out[0] = u32::from(self);
    }
    #[inline]
    fn get(w: &[u32]) -> Self {
        w[0] & 1 != 0
    }
}

impl Word for TaskState {
    const WORDS: usize = 1;
    #[inline]
    fn put(self, out: &mut [u32]) {
        out[0] = u32::from(self.0);
    }
    #[inline]
    fn get(w: &[u32]) -> Self {
        TaskState(w[0] as u16)
    }
}

/// Low word first.
impl Word for u64 {
    const WORDS: usize = 2;
    #[inline]
    fn put(self, out: &mut [u32]) {
        out[0] = self as u32;
        out[1] = (self >> 32) as u32;
    }
    #[inline]
    fn get(w: &[u32]) -> Self {
        u64::from(w[0]) | u64::from(w[1]) << 32
    }
}

/// `u64::MAX` stands for `None`.
impl Word for Option<u64> {
    const WORDS: usize = 2;
    #[inline]
    fn put(self, out: &mut [u32]) {
        self.unwrap_or(u64::MAX).put(out);
    }
    #[inline]
    fn get(w: &[u32]) -> Self {
        Some(u64::get(w)).filter(|&v| v != u64::MAX)
    }
}

/// Words a field takes: none when it is shifted into the previous field's word.
macro_rules! field_words {
    ($ty:ty) => {
        <$ty as $crate::payload::words::Word>::WORDS
    };
    ($ty:ty, $shift:literal) => {
        0
    };
}

/// Writes a field at `$at` (or ORs it, shifted, into the word before) and moves past it.
macro_rules! put_field {
    ($words:ident, $at:ident, $value:expr, $ty:ty) => {{
        <$ty as $crate::payload::words::Word>::put($value, &mut $words[$at..]);
        $at += <$ty as $crate::payload::words::Word>::WORDS;
    }};
    ($words:ident, $at:ident, $value:expr, $ty:ty, $shift:literal) => {{
        let mut one = [0u32];
        <$ty as $crate::payload::words::Word>::put($value, &mut one);
        $words[$at - 1] |= one[0] << $shift;
    }};
}

/// Reads a field back the way [`put_field`] wrote it.
macro_rules! get_field {
    ($words:ident, $at:ident, $ty:ty) => {{
        let value = <$ty as $crate::payload::words::Word>::get(&$words[$at..]);
        $at += <$ty as $crate::payload::words::Word>::WORDS;
        value
    }};
    ($words:ident, $at:ident, $ty:ty, $shift:literal) => {
        <$ty as $crate::payload::words::Word>::get(&[$words[$at - 1] >> $shift])
    };
}

/// Checks a string id field against the interner's size.
macro_rules! check_field {
    ($words:ident, $at:ident, $strings:ident, $ty:ty) => {{
        if <$ty as $crate::payload::words::Word>::STRING {
            $crate::payload::check_id($words[$at], $strings)?;
        }
        $at += <$ty as $crate::payload::words::Word>::WORDS;
    }};
    ($words:ident, $at:ident, $strings:ident, $ty:ty, $shift:literal) => {};
}

/// The table of typed payloads: each variant with its tag in the arena, its fields in
/// word order (`name: Type >> N` shares the previous field's word, shifted N bits) and how
/// the kernel prints it (`=> |out, s| ...`, fields bound by reference, `s` resolving a
/// string id). From it come the [`Payload`](super::Payload) enum (with the text-carrying
/// variants `Empty`, `Print`, `Fields` and `Raw`, written out by hand), `tag`, the arena's
/// `put_typed`, `get_typed` and `check_typed`, and `PayloadView::write_details`.
macro_rules! payloads {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $tag:literal { $($field:ident: $ty:ty $(>> $shift:literal)?),* $(,)? }
        => |$out:ident, $s:ident| $print:expr
    ),* $(,)?) => {
        /// The payload of one event. `F` is the generic field list: a slice when an importer
        /// pushes it, a [`FieldIter`] when it is read back.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Payload<'a, F> {
            /// No payload (or an event whose payload is empty).
            Empty,
            $($(#[$doc])* $variant { $($field: $ty),* },)*
            /// `print` (trace_marker), `bprint` / `bputs` (trace_printk): the message text.
            Print { text: &'a str },
            /// Any other event: its fields as key/value text.
            Fields(F),
            /// Any other event whose payload has no `key=value` shape: the raw text.
            Raw(&'a str),
        }

        /// The first word of each payload.
        #[allow(non_upper_case_globals)]
        mod tag {
            pub const EMPTY: u32 = 0;
            $(pub const $variant: u32 = $tag;)*
            pub const PRINT: u32 = 31;
            pub const FIELDS: u32 = 32;
            pub const RAW: u32 = 33;
        }

        impl PayloadView<'_> {
            /// Writes the payload as the kernel prints it after `name: `; `s` resolves
            /// string ids.
            pub fn write_details<'s>(
                &self,
                out: &mut String,
                s: impl Fn(StrId) -> &'s str,
            ) -> std::fmt::Result {
                use std::fmt::Write as _;
                match self {
                    $(
                    // A print may leave fields out (funcgraph's depth).
                    #[allow(unused_variables)]
                    Payload::$variant { $($field),* } => {
                        let ($out, $s) = (&mut *out, &s);
                        $print
                    })*
                    Payload::Empty => Ok(()),
                    Payload::Print { text } | Payload::Raw(text) => out.write_str(text),
                    Payload::Fields(fields) => {
                        for (i, (k, v)) in fields.clone().enumerate() {
                            let sep = if i == 0 { "" } else { " " };
                            write!(out, "{sep}{}={v}", s(k))?;
                        }
                        Ok(())
                    }
                }
            }
        }

        // The last field's move past it is never read.
        #[allow(unused_assignments)]
        impl PayloadArena {
            /// Appends a typed payload (`None`: not one of the table's).
            #[inline]
            fn put_typed(&mut self, p: &PayloadIn<'_>, shared: &mut SharedPayloads) -> Option<u32> {
                Some(match *p {
                    $(Payload::$variant { $($field),* } => {
                        let mut words = [0u32; 1 $(+ field_words!($ty $(, $shift)?))*];
                        words[0] = tag::$variant;
                        let mut at = 1;
                        $(put_field!(words, at, $field, $ty $(, $shift)?);)*
                        self.put(shared, words)
                    })*
                    _ => return None,
                })
            }

            /// Reads a typed payload back (`None`: not one of the table's tags).
            #[inline]
            fn get_typed(w: &[u32]) -> Option<PayloadView<'_>> {
                let mut at = 1;
                Some(match w[0] {
                    $(tag::$variant => Payload::$variant {
                        $($field: get_field!(w, at, $ty $(, $shift)?)),*
                    },)*
                    _ => return None,
                })
            }

            /// Checks the words of a typed payload and returns how many it takes (`None`: not
            /// one of the table's tags).
            fn check_typed(w: &[u32], strings: usize) -> Option<Result<usize, String>> {
                let check = |len: usize, fields: &dyn Fn() -> Result<(), String>| {
                    if w.len() < len {
                        return Err(format!("a payload of tag {} cut short", w[0]));
                    }
                    fields().map(|()| len)
                };
                Some(match w[0] {
                    $(tag::$variant => check(
                        1 $(+ field_words!($ty $(, $shift)?))*,
                        &|| {
                            let mut at = 1;
                            $(check_field!(w, at, strings, $ty $(, $shift)?);)*
                            Ok(())
                        },
                    ),)*
                    _ => return None,
                })
            }
        }
    };
}

pub(crate) use {check_field, field_words, get_field, payloads, put_field};
