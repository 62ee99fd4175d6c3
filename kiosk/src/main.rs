use std::process::ExitCode;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BLISKO_LOG")
                .unwrap_or_else(|_| "warn".into())
                // It logs an untrusted certificate as an error of its own; the kiosk
                // reports it already (`untrusted_server`).
                .add_directive(
                    "rustls_platform_verifier=off"
                        .parse()
                        .expect("a valid directive"),
                ),
        )
        .with_writer(std::io::stderr)
        .init();
    blisko_kiosk::cli::main()
}
