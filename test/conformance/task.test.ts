import { taskScheduler } from 'rxjs-parallel';
import { conformance } from './suite.js';

conformance('task', taskScheduler);
