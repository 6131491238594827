//! The runtime: hosts timely workers and the dataflows of tables and views.
