//! Lesson 18's tests, in the order of the chapter's exercises.

#[test]
fn ex18_1_answers_twice_the_input() {
    kit::lesson!().exercise("18.1").run(|| {
        assert_eq!(lesson_18::resilient_client::answer(21), 42, "answer(21)");
    });
}

kit::program_tests!("--items", "0");
