"""The operator console (``/admin…``): sign-in, set-up forms, the live view of a show and its
controls, the operator seat map, the funnel and the audit log (CONTRACT.md "Operator console")."""
