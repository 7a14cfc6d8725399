import { Module } from '@nestjs/common';
import { ParallelModule } from 'rxjs-parallel/nestjs';
import { ScoresController } from './scores.controller.js';

@Module({
  imports: [
    ParallelModule.forRoot({
      schedulers: {
        cpu: { kind: 'thread', workers: 4 }, // CPU work: 4 worker threads, started at bootstrap
        io: { kind: 'task' }, // I/O work: async calls in this event loop
      },
      isGlobal: true,
    }),
  ],
  controllers: [ScoresController],
})
export class AppModule {}
