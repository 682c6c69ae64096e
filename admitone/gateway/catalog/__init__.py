"""Browse: the catalog as JSON and the browse pages."""
