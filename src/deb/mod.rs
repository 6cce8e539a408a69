//! Writing and reading `.deb` archives from a [`crate::plan::PackagePlan`].
