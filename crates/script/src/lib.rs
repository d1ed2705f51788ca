//! Running external scripts safely (script_user, enable_script_security, timeouts, no zombies).
