//! Lesson 09's tests, in the order of the chapter's exercises.

#[test]
fn ex09_1_answers_twice_the_input() {
    kit::lesson!().exercise("09.1").run(|| {
        assert_eq!(lesson_09::cqrs::answer(21), 42, "answer(21)");
    });
}

kit::program_tests!("--items", "0");
