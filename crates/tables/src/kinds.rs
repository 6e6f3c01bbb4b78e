//! The small vocabularies of the tables: which unit, which side, which end of a list.

use std::fmt;
use std::str::FromStr;

/// Defines a closed set of names stored as strings in the tables.
macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in table order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name stored in the tables.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Serialises as the name stored in the tables.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, UnknownName> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownName {
                        what: stringify!($name),
                        given: s.to_string(),
                        expected: &[$($text),+],
                    }),
                }
            }
        }
    };
}

named_enum! {
    /// What kind of unit a list belongs to.
    UnitKind { Neuron = "neuron", Head = "head" }
}

named_enum! {
    /// Which parameter vector of a feed-forward neuron was projected.
    Side {
        /// The gate of a gated feed-forward layer (SwiGLU, GeGLU): the row
        /// of the gate projection, whose activation scales the key's.
        Gate = "gate",
        /// The input weight vector: the row of the feed-forward input (up)
        /// projection that the residual stream is multiplied with.
        Key = "key",
        /// The output weight vector: what the neuron adds to the residual stream.
        Value = "value",
    }
}

named_enum! {
    /// Which way a neuron's connection list looks along the residual stream.
    Direction {
        /// Its value against the keys (or gates) of the neurons of later
        /// layers: which later neurons it excites or inhibits.
        Downstream = "downstream",
        /// Its key (or gate) against the values of the neurons of earlier
        /// layers: which earlier neurons excite or inhibit it.
        Upstream = "upstream",
    }
}

named_enum! {
    /// Which end of the score ranking a list holds.
    Polarity {
        /// The highest scores, strongest first.
        Top = "top",
        /// The lowest (most negative) scores, strongest first.
        Bottom = "bottom",
    }
}

/// A name that is not one of the values a column may hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {given:?}; expected one of: {}", expected.join(", "))]
pub struct UnknownName {
    what: &'static str,
    given: String,
    expected: &'static [&'static str],
}

named_enum! {
    /// Which vocab × vocab matrix of an attention head a list comes from.
    Circuit {
        /// E·W_V·W_O·Eᵀ: attending to src pushes the output towards dst.
        Vo = "vo",
        /// E·W_Q·W_Kᵀ·Eᵀ: a query at src attends to a key at dst.
        Qk = "qk",
    }
}
