//! [`Numeric`]: PostgreSQL's exact `numeric`.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// An exact decimal number with a display scale, or NaN / ±Infinity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Numeric {
    /// A finite value: `mantissa × 10^-scale`.
    Finite {
        /// The unscaled value.
        mantissa: i128,
        /// Digits after the decimal point (PostgreSQL's display scale).
        scale: u16,
    },
}

impl Numeric {
    /// Compares by numeric value (`1.0` equals `1.00`).
    pub fn cmp_value(&self, other: &Numeric) -> Ordering {
        let (Numeric::Finite { mantissa: a, scale: sa }, Numeric::Finite { mantissa: b, scale: sb }) = (self, other);
        let s = (*sa).max(*sb);
        (a * 10i128.pow((s - sa) as u32)).cmp(&(b * 10i128.pow((s - sb) as u32)))
    }

    /// The same value without trailing fractional zeros.
    pub fn normalized(&self) -> Numeric {
        let Numeric::Finite { mut mantissa, mut scale } = self.clone();
        while scale > 0 && mantissa % 10 == 0 {
            mantissa /= 10;
            scale -= 1;
        }
        Numeric::Finite { mantissa, scale }
    }
}

impl PartialOrd for Numeric {
    fn partial_cmp(&self, other: &Numeric) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Numeric value first, display scale second (representation-exact).
impl Ord for Numeric {
    fn cmp(&self, other: &Numeric) -> Ordering {
        let (Numeric::Finite { scale: sa, .. }, Numeric::Finite { scale: sb, .. }) = (self, other);
        self.cmp_value(other).then(sa.cmp(sb))
    }
}
