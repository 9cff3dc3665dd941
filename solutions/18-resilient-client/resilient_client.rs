//! Exercise 18.1: a first answer.

/// Twice `x`.
pub fn answer(x: u32) -> u32 {
    //@ solution
    x * 2
    //@ skeleton
    // let _ = x;
    // todo!("exercise 18.1: answer")
    //@ end
}
