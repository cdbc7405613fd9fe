"""Every read of the ledger (docs/adr/0035): one module per subject, each returning a typed
result (frozen dataclasses) as of a store position and raising domain errors only; the API,
the web UI and `ledger export` only present the results (`values.public` writes one as the
API's JSON body). A query never imports an entry point."""
