//! Debian version strings, parsed, validated and compared exactly as dpkg does.
