//! Lesson 07's tests, in the order of the chapter's exercises.

#[test]
fn ex07_1_answers_twice_the_input() {
    kit::lesson!().exercise("07.1").run(|| {
        assert_eq!(lesson_07::lock_free::answer(21), 42, "answer(21)");
    });
}

kit::program_tests!("--items", "0");
