//! Lesson 17's tests, in the order of the chapter's exercises.

#[test]
fn ex17_1_answers_twice_the_input() {
    kit::lesson!().exercise("17.1").run(|| {
        assert_eq!(lesson_17::load_patterns::answer(21), 42, "answer(21)");
    });
}

kit::program_tests!("--items", "0");
