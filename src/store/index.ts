/** What genlock keeps on disk between runs, under `data_dir`: one atomic JSON state-file helper. */
export { StateFile, StateFileError, type StateFileOptions, type StoreLogger } from './state-file.js'
