-- Trained arms (gd, sgd, adam) store their training curve with each point:
-- [{"epoch", "train_loss", "test_mse", "test_accuracy"}] as JSON text; NULL for kernel arms.
ALTER TABLE points ADD COLUMN training_curve TEXT;
