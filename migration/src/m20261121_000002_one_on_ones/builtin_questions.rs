//! The built-in question bank every organisation starts with: prompts to come prepared with, not
//! a script. Eight or more per category.

use sea_orm_migration::prelude::*;

use super::Questions;

const QUESTIONS: &[(&str, &[&str])] = &[
    (
        "PRIORITIES",
        &[
            "What is the most important thing you want to get done before we next meet?",
            "Is there anything on your plate that no longer deserves your time?",
            "Which of your current priorities feels least clear to you?",
            "Where are you waiting on someone else, and how can I help unblock it?",
            "If you could only finish one thing this week, what would it be?",
            "Is anything competing for your attention that we should decide on together?",
            "What are you saying no to at the moment, and does that feel right?",
            "How well do your priorities match what the team needs right now?",
            "What would you like me to take off your plate?",
        ],
    ),
    (
        "PROGRESS",
        &[
            "What went better than expected since our last 1:1?",
            "What are you proud of from the last couple of weeks?",
            "Where did you get stuck, and what got you unstuck?",
            "What did you learn from something that did not go to plan?",
            "Which piece of work is taking longer than you thought, and why?",
            "What feedback have you had on your recent work?",
            "What would make the next piece of work go more smoothly?",
            "Is there progress you made that the rest of the team has not seen yet?",
        ],
    ),
    (
        "DEVELOPMENT",
        &[
            "What skill would you most like to grow over the next six months?",
            "What kind of work gives you energy, and how can we get you more of it?",
            "Where do you see yourself in two years, and what would help you get there?",
            "Who in the company would you like to learn from?",
            "Is there a stretch project you would like to take on?",
            "What is one thing you would like to get better at this quarter?",
            "Which of your strengths do you think we are not using enough?",
            "What support would help you take the next step in your career?",
        ],
    ),
    (
        "WELLBEING",
        &[
            "How are you, really?",
            "How sustainable does your workload feel right now?",
            "What has been draining your energy lately?",
            "Is anything outside work affecting you that you would like me to know about?",
            "When did you last take real time off, and is some coming up?",
            "Do you feel you can switch off at the end of the day?",
            "What would make your working week feel better?",
            "How connected do you feel to the rest of the team?",
        ],
    ),
    (
        "FEEDBACK",
        &[
            "What is one thing I could do differently to support you better?",
            "Is there feedback you have been holding back that you would like to share?",
            "How useful are these 1:1s for you, and what would make them better?",
            "What should I keep doing as your manager?",
            "Is there a decision I made recently that you disagreed with?",
            "How clear is the feedback you get from me?",
            "What would you like more or less of from me?",
            "Is there feedback for someone else on the team you would like help giving?",
        ],
    ),
    (
        "OTHER",
        &[
            "Is there anything on your mind that we have not talked about?",
            "What is something about the company you would like to understand better?",
            "If you were running the team for a week, what would you change?",
            "What question do you wish I had asked you today?",
            "Is there a process that gets in your way more than it helps?",
            "What is something fun or interesting you have been up to lately?",
            "Is there anyone whose work deserves more recognition?",
            "What should we make sure to discuss next time?",
        ],
    ),
];

pub async fn insert(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut insert = Query::insert();
    insert.into_table(Questions::Table).columns([
        Questions::Id,
        Questions::Category,
        Questions::Text,
        Questions::CreatedAt,
    ]);
    let now = chrono_now();
    for (index, (category, texts)) in QUESTIONS.iter().enumerate() {
        for (position, text) in texts.iter().enumerate() {
            insert.values_panic([
                builtin_id(index, position).into(),
                (*category).into(),
                (*text).into(),
                now.into(),
            ]);
        }
    }
    manager.exec_stmt(insert).await
}

/// Stable ids, so a built-in question has the same id in every database.
fn builtin_id(category: usize, position: usize) -> sea_orm::prelude::Uuid {
    sea_orm::prelude::Uuid::from_u128(
        0x0000_0000_0000_7000_8000_0000_0000_0000 | ((category as u128) << 16) | position as u128,
    )
}

fn chrono_now() -> sea_orm::prelude::DateTimeUtc {
    sea_orm::prelude::DateTimeUtc::from(std::time::SystemTime::now())
}
