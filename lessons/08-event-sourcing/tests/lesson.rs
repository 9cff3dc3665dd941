//! Lesson 08's tests, in the order of the chapter's exercises.

#[test]
fn ex08_1_answers_twice_the_input() {
    kit::lesson!().exercise("08.1").run(|| {
        assert_eq!(lesson_08::event_sourcing::answer(21), 42, "answer(21)");
    });
}

kit::program_tests!("--items", "0");
