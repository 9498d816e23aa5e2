//! A blocking driver (feature `std`) over `std::net::TcpStream`: the reference host loop.
