//! Exercise 20.1: a first answer.

/// Twice `x`.
pub fn answer(x: u32) -> u32 {
    let _ = x;
    todo!("exercise 20.1: answer")
}
