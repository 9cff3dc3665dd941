//! Lesson 20's tests, in the order of the chapter's exercises.

#[test]
fn ex20_1_answers_twice_the_input() {
    kit::lesson!().exercise("20.1").run(|| {
        assert_eq!(lesson_20::capstone::answer(21), 42, "answer(21)");
    });
}

kit::program_tests!("--items", "0");
