fn main() {
    let n: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    print!("{}", cachetape_testkit::synthetic::cache_aside_monitor_text(n, 42));
}
