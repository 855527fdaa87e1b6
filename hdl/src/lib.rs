pub use rust_hdl::prelude::*;
