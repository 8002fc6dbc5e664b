"""Time-series forecasting on lstmlab.LSTM, done right: windows of the past predict values that are
strictly in the future, scalers see the training part only, and every forecast is reported next to
naive, seasonal-naive and linear baselines.

    datasets.py   shipped data sets and the CSV loader
    windows.py    lookback windows, chronological splits, scalers fit on training data only
    models.py     next-step, seq2seq (exogenous, BatchNorm), multi-horizon (encoder + MLP, quantiles)
    training.py   the training loop (Adam or L-BFGS, early stopping, clipping, decay, seeding)
    metrics.py    MAE, RMSE, MAPE, sMAPE, MASE and the baselines
    pipeline.py   Forecaster: fit, forecast, save, load; run_forecast for `lstmlab forecast`
"""
