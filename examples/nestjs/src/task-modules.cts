// Where the worker threads find the task functions: the built tasks.js beside this file. This one
// file is CommonJS in both builds of the example (a .cts file), so __dirname serves both; an app
// that is only ES modules writes new URL('./tasks.js', import.meta.url), one only CommonJS
// join(__dirname, 'tasks.js').
import { join } from 'node:path';

export const tasksModule = join(__dirname, 'tasks.js');
