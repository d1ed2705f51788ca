fn main() {
    eprintln!("rkeepalived: skeleton");
}
