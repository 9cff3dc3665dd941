//! Lesson 19's tests, in the order of the chapter's exercises.

#[test]
fn ex19_1_answers_twice_the_input() {
    kit::lesson!().exercise("19.1").run(|| {
        assert_eq!(lesson_19::production::answer(21), 42, "answer(21)");
    });
}

kit::program_tests!("--items", "0");
