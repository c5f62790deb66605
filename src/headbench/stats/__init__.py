"""The statistics: RMSE, paired comparisons, repeated confidence intervals and their calibration."""
