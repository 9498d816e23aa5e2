//! The panic boundary: no unwind may cross into C.
//!
//! Every export wraps its body in `ffi_boundary!`, which runs it under `catch_unwind` and turns a
//! caught panic into the value [`OnPanic::on_panic`] chooses for the function's return type
//! (`IMDS_RESULT_PANIC` for results, an empty or fixed value otherwise). The core is written not to
//! panic; this is the last line of defence.

/// The value an export returns when its body panicked.
pub(crate) trait OnPanic {
    /// The value to return instead of unwinding into C.
    fn on_panic() -> Self;
}

impl OnPanic for crate::result::imds_result {
    fn on_panic() -> Self {
        Self::Panic
    }
}

impl OnPanic for () {
    fn on_panic() -> Self {}
}

impl OnPanic for usize {
    fn on_panic() -> Self {
        0
    }
}

impl OnPanic for u8 {
    fn on_panic() -> Self {
        crate::cli::EXIT_PANIC
    }
}

impl OnPanic for *const core::ffi::c_char {
    fn on_panic() -> Self {
        c"panic in libimds".as_ptr()
    }
}

impl OnPanic for crate::text::imds_str {
    fn on_panic() -> Self {
        crate::text::imds_str::EMPTY
    }
}

/// Runs the body under `catch_unwind`; a panic becomes [`OnPanic::on_panic`] of the return type.
/// `return` inside the body returns from the export (the body is a closure).
macro_rules! ffi_boundary {
    ($($body:tt)*) => {{
        let outcome = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(move || {
            $($body)*
        }));
        match outcome {
            Ok(value) => value,
            Err(_) => $crate::panic::OnPanic::on_panic(),
        }
    }};
}

#[cfg(test)]
mod tests {
    use crate::result::imds_result;
    use crate::text::imds_str;

    #[test]
    fn a_panic_becomes_the_return_types_panic_value() {
        let result: imds_result = ffi_boundary! { panic!("boom") };
        assert_eq!(result, imds_result::Panic);
        let size: usize = ffi_boundary! { panic!("boom") };
        assert_eq!(size, 0);
        let exit: u8 = ffi_boundary! { panic!("boom") };
        assert_eq!(exit, 1);
        let text: imds_str = ffi_boundary! { panic!("boom") };
        assert_eq!(text.len, 0);
        assert!(!text.data.is_null());
    }

    #[test]
    fn values_pass_through_and_return_leaves_the_body() {
        let result: imds_result = ffi_boundary! {
            if 1 + 1 == 2 {
                return imds_result::NotAvailable;
            }
            imds_result::Ok
        };
        assert_eq!(result, imds_result::NotAvailable);
    }
}
