import { processScheduler } from 'rxjs-parallel';
import { conformance } from './suite.js';

conformance('process', () => processScheduler({ workers: 2 }));
