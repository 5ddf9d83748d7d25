/** dn.callbacks: Keras's training callbacks, for fit({ callbacks }). */
export { Callback, CallbackModel, MonitorMode } from './callback';
export { EarlyStopping, EarlyStoppingArgs, earlyStopping } from './early_stopping';
export { ReduceLROnPlateau, ReduceLROnPlateauArgs, reduceLROnPlateau } from './reduce_lr_on_plateau';
export { ModelCheckpoint, ModelCheckpointArgs, modelCheckpoint } from './model_checkpoint';
export { LearningRateScheduler, ScheduleFn, learningRateScheduler } from './learning_rate_scheduler';
export { CSVLogger, CSVLoggerArgs, csvLogger } from './csv_logger';
export { TerminateOnNaN, TerminateOnNaNArgs, terminateOnNaN } from './terminate_on_nan';
