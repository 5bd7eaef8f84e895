//! Prints the GraphQL SDL the server serves: `cargo run -p tete-api --bin print-schema > schema.graphql`.

fn main() {
    print!("{}", tete_api::graphql::sdl());
}
