"""Reading and checking the user's CSV, the folds, the demo data, tokens and length-grouped batches."""
